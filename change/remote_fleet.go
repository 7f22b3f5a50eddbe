package change

import (
	"context"
	"fmt"
	"time"

	"portpanel/agentapi"
	"portpanel/fleet"
)

// FleetService is package fleet's Service as the Fleet a remote change
// uses. serve wires it both ways: Service.Fleet is this, and fleet's
// Results hook is Service.RecordRemoteResults.
type FleetService struct{ Fleet *fleet.Service }

func (f FleetService) RemoteHost(ctx context.Context, name string) (RemoteHost, error) {
	h, err := f.Fleet.DB.HostByName(ctx, name)
	if err != nil {
		return RemoteHost{}, err
	}
	v, err := fleet.NewView(h, time.Now())
	if err != nil {
		return RemoteHost{}, err
	}
	r := RemoteHost{Name: h.Name, Revoked: h.RevokedAt != nil, ObserveOnly: h.ObserveOnly,
		Reported: v.Observed != nil, Generation: h.Generation}
	if v.Observed != nil {
		r.Observed = *v.Observed
	}
	return r, nil
}

func (f FleetService) SetDesired(ctx context.Context, host string, dc agentapi.DesiredChange) (int64, error) {
	h, err := f.Fleet.SetDesired(ctx, host, &dc, nil)
	if err != nil {
		return 0, fmt.Errorf("set the desired state of host %s: %w", host, err)
	}
	return h.Generation, nil
}

func (f FleetService) RequestPreview(ctx context.Context, host string, keys map[string]string) (agentapi.PreviewResult, error) {
	return f.Fleet.RequestPreview(ctx, host, keys)
}

func (f FleetService) Confirm(ctx context.Context, host string, generation int64) error {
	_, err := f.Fleet.Confirm(ctx, host, generation)
	return err
}
