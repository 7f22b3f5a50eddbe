package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portpanel/views"
)

const samplesPerPage = 100

var windows = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// History charts the range over a window and lists samples newest first.
func (h *Handlers) History(c echo.Context) error {
	ctx := c.Request().Context()
	window := c.QueryParam("window")
	span, ok := windows[window]
	if !ok {
		window, span = "7d", windows["7d"]
	}
	to := h.Now().UTC()
	from := to.Add(-span)
	chart, err := h.DB.SamplesSince(ctx, from)
	if err != nil {
		return err
	}
	list, err := h.DB.Samples(ctx, samplesPerPage, cursor(c))
	if err != nil {
		return err
	}
	ch, err := h.chrome(c, "History", "history")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.History(views.HistoryPage{
		Chrome: ch, Chart: chart, ChartFrom: from, ChartTo: to, Window: window, Samples: list,
		Next: nextCursor(len(list), samplesPerPage, func(i int) int64 { return list[i].ID }),
	}))
}
