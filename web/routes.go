package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portpanel/auth"
	"portpanel/handlers"
)

// Public marks a route that needs no sign-in.
const Public = ""

// MetricsPath is the Prometheus endpoint: the one route that also takes
// the metrics token, and that answers 401 rather than a login page.
const MetricsPath = "/metrics"

// Route is one entry of the route table: who may call what.
type Route struct {
	Method  string
	Path    string
	Role    string // the least role allowed, or Public
	Handler echo.HandlerFunc
}

// Routes is the one table of every route and the role it needs. A test walks
// it for every role, so a route cannot be added without a role.
func Routes(h *handlers.Handlers) []Route {
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	viewer, operator, approver, admin := auth.RoleViewer, auth.RoleOperator, auth.RoleApprover, auth.RoleAdmin
	return []Route{
		{get, "/healthz", Public, h.Health},
		{get, "/readyz", Public, h.Readyz},
		{get, "/login", Public, h.ShowLogin},
		{post, "/login", Public, h.Login},
		{get, "/setup", Public, h.ShowSetup},
		{post, "/setup", Public, h.CompleteSetup},
		{post, "/logout", viewer, h.Logout},

		{get, "/", viewer, h.Dashboard},
		{get, "/changes", viewer, h.ListChanges},
		{post, "/changes", operator, h.CreateChange},
		{get, "/changes/pending", viewer, h.PendingChanges},
		{get, "/changes/export", viewer, h.ExportChanges},
		{get, "/changes/:id", viewer, h.ShowChange},
		{post, "/changes/:id/rollback", operator, h.RollbackChange},
		{post, "/changes/:id/approve", approver, h.ApproveChange},
		{post, "/changes/:id/reject", approver, h.RejectChange},
		{post, "/changes/:id/confirm", operator, h.ConfirmChange},
		{get, "/history", viewer, h.History},
		{get, "/hosts", viewer, h.ListHosts},
		{get, "/hosts/:name", viewer, h.ShowHost},
		{post, "/hosts/:name/revoke", admin, h.RevokeHost},
		{post, "/hosts/:name/changes", operator, h.HostCreateChange},
		{get, "/enrollments", admin, h.ListEnrollments},
		{post, "/enrollments", admin, h.CreateEnrollment},
		{post, "/enrollments/:id/revoke", admin, h.RevokeEnrollment},
		{get, "/namespaces", viewer, h.ListNamespaces},
		{get, "/audit", viewer, h.Audit},
		{get, "/audit/export", viewer, h.ExportAudit},
		// Anyone signed in manages their own tokens; the handlers let
		// admins see and revoke everyone's.
		{get, "/tokens", viewer, h.ListTokens},
		{post, "/tokens", viewer, h.CreateToken},
		{post, "/tokens/:id/revoke", viewer, h.RevokeToken},
		{get, "/account", viewer, h.ShowAccount},
		{post, "/account/password", viewer, h.ChangePassword},
		{get, "/users", admin, h.ListUsers},
		{post, "/users", admin, h.CreateUser},
		{get, "/users/:id", admin, h.ShowUser},
		{post, "/users/:id/role", admin, h.SetUserRole},
		{post, "/users/:id/disable", admin, h.DisableUser},
		{post, "/users/:id/enable", admin, h.EnableUser},
		{post, "/users/:id/password", admin, h.ResetPassword},
		{get, "/webhooks", admin, h.ListWebhooks},
		{post, "/webhooks", admin, h.CreateWebhook},
		{get, "/webhooks/:id", admin, h.ShowWebhook},
		{post, "/webhooks/:id", admin, h.UpdateWebhook},
		{post, "/webhooks/:id/test", admin, h.TestWebhook},
		{post, "/webhooks/:id/delete", admin, h.DeleteWebhook},

		{get, "/api/v1/range", viewer, h.APIRange},
		{get, "/api/v1/changes", viewer, h.APIChanges},
		{post, "/api/v1/changes", operator, h.APICreateChange},
		{get, "/api/v1/changes/export", viewer, h.ExportChanges},
		{get, "/api/v1/changes/:id", viewer, h.APIChange},
		{post, "/api/v1/changes/:id/rollback", operator, h.APIRollback},
		{post, "/api/v1/changes/:id/approve", approver, h.APIApprove},
		{post, "/api/v1/changes/:id/reject", approver, h.APIReject},
		{post, "/api/v1/changes/:id/confirm", operator, h.APIConfirm},
		{get, "/api/v1/hosts/:name/changes", viewer, h.APIHostChanges},
		{post, "/api/v1/hosts/:name/changes", operator, h.APIHostCreateChange},
		{post, "/api/v1/hosts/:name/changes/:id/rollback", operator, h.APIHostRollback},
		{post, "/api/v1/hosts/:name/changes/:id/confirm", operator, h.APIHostConfirm},
		{get, "/api/v1/audit", viewer, h.APIAudit},
		{get, "/api/v1/audit/export", viewer, h.ExportAudit},
		{get, "/api/v1/history", viewer, h.APIHistory},
		{get, "/api/v1/usage", viewer, h.APIUsage},
		{get, "/api/v1/webhooks", admin, h.APIWebhooks},
		{post, "/api/v1/webhooks", admin, h.APICreateWebhook},
		{get, "/api/v1/webhooks/:id", admin, h.APIWebhook},
		{patch, "/api/v1/webhooks/:id", admin, h.APIUpdateWebhook},
		{del, "/api/v1/webhooks/:id", admin, h.APIDeleteWebhook},
		{post, "/api/v1/webhooks/:id/test", admin, h.APITestWebhook},
		{get, "/api/v1/namespaces", viewer, h.APINamespaces},
		{get, "/api/v1/hosts", viewer, h.APIHosts},
		{get, "/api/v1/hosts/:name", viewer, h.APIHost},
		{post, "/api/v1/hosts/:name/revoke", admin, h.APIRevokeHost},
		{get, "/api/v1/enrollments", admin, h.APIEnrollments},
		{post, "/api/v1/enrollments", admin, h.APICreateEnrollment},
		{post, "/api/v1/enrollments/:id/revoke", admin, h.APIRevokeEnrollment},
		{get, "/api/v1/openapi.json", viewer, h.OpenAPI},

		// Signed-in users and API tokens may scrape; so may --metrics-token,
		// which authenticate accepts on this path only.
		{get, MetricsPath, viewer, h.Metrics()},
	}
}
