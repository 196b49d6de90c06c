package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Extension routes for operators: virtual cluster settings, the audit log, and IAM-style
// users (shapes as IAM's API returns them, so `aws iam` users read them the same way).

func (s *Server) getSettings(r *http.Request, _ []byte) (any, error) {
	return s.svc.VirtualClusterSettings(r.Context(), r.PathValue("virtualClusterId"))
}

func (s *Server) putSettings(r *http.Request, body []byte) (any, error) {
	return s.svc.PutVirtualClusterSettings(r.Context(), r.PathValue("virtualClusterId"), body)
}

func (s *Server) deleteSettings(r *http.Request, _ []byte) (any, error) {
	return s.svc.DeleteVirtualClusterSettings(r.Context(), r.PathValue("virtualClusterId"))
}

func (s *Server) jobRunUI(r *http.Request, _ []byte) (any, error) {
	run, err := s.svc.DescribeJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	attempt := 0
	if v := r.URL.Query().Get("attempt"); v != "" {
		if attempt, err = strconv.Atoi(v); err != nil || attempt < 1 {
			return nil, &jobs.ValidationError{Field: "attempt", Rule: "must be a positive integer"}
		}
	}
	return s.sparkUI.JobRunUI(r.Context(), run, attempt)
}

// DefaultAuditRange is how far back an audit listing reaches when the request names no start.
const DefaultAuditRange = time.Hour

func (s *Server) listAuditEvents(r *http.Request, _ []byte) (any, error) {
	if s.auditStore == nil {
		return nil, &apiError{http.StatusNotFound, "UnknownOperationException", "this server keeps no audit log"}
	}
	q := r.URL.Query()
	query := audit.Query{Since: time.Now().Add(-DefaultAuditRange), Principal: q.Get("principal"), Action: q.Get("action"), Token: q.Get("nextToken")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &query.Since}, {"until", &query.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := smithytime.ParseDateTime(v)
			if err != nil {
				return nil, &jobs.ValidationError{Field: p.name, Rule: "must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z"}
			}
			*p.dst = t
		}
	}
	tf, err := timeFilter(r)
	if err != nil {
		return nil, err
	}
	query.Limit = tf.Limit
	if query.Limit == 0 {
		query.Limit = 100
	}
	if query.Limit > 1000 {
		return nil, &jobs.ValidationError{Field: "maxResults", Rule: "must be at most 1000"}
	}
	events, next, err := s.auditStore.ListAudit(r.Context(), query)
	if err != nil {
		return nil, err
	}
	return page("events", events, next), nil
}

func (s *Server) iamRoutes(h map[string]route) {
	sp := func(op string) string { return ExtensionPrefix + ":" + op }
	h["POST /iam/users"] = route{sp("CreateUser"), s.createUser, s.userAuthz(sp("CreateUser")), true}
	h["GET /iam/users"] = route{sp("ListUsers"), s.listUsers, anywhere(sp("ListUsers")), false}
	h["GET /iam/users/{userName}"] = route{sp("GetUser"), onUser(s.dir.GetUser, "User"), s.userAuthz(sp("GetUser")), false}
	h["DELETE /iam/users/{userName}"] = route{sp("DeleteUser"), s.deleteUser, s.userAuthz(sp("DeleteUser")), true}
	h["POST /iam/users/{userName}/accesskeys"] = route{sp("CreateAccessKey"), onUser(s.dir.CreateAccessKey, "AccessKey"), s.userAuthz(sp("CreateAccessKey")), true}
	h["GET /iam/users/{userName}/accesskeys"] = route{sp("ListAccessKeys"), onUser(s.dir.ListAccessKeys, "AccessKeyMetadata"), s.userAuthz(sp("ListAccessKeys")), false}
	h["DELETE /iam/users/{userName}/accesskeys/{accessKeyId}"] = route{sp("DeleteAccessKey"), s.deleteAccessKey, s.userAuthz(sp("DeleteAccessKey")), true}
	h["GET /iam/users/{userName}/policies"] = route{sp("ListUserPolicies"), onUser(s.dir.ListUserPolicies, "PolicyNames"), s.userAuthz(sp("ListUserPolicies")), false}
	h["PUT /iam/users/{userName}/policies/{policyName}"] = route{sp("PutUserPolicy"), s.putUserPolicy, s.userAuthz(sp("PutUserPolicy")), true}
	h["GET /iam/users/{userName}/policies/{policyName}"] = route{sp("GetUserPolicy"), s.getUserPolicy, s.userAuthz(sp("GetUserPolicy")), false}
	h["DELETE /iam/users/{userName}/policies/{policyName}"] = route{sp("DeleteUserPolicy"), s.deleteUserPolicy, s.userAuthz(sp("DeleteUserPolicy")), true}
}

// onUser adapts a Directory method on the path's user to a handler answering {member: result}.
func onUser[T any](fn func(context.Context, string) (T, error), member string) handlerFunc {
	return func(r *http.Request, _ []byte) (any, error) {
		out, err := fn(r.Context(), r.PathValue("userName"))
		if err != nil {
			return nil, err
		}
		return map[string]any{member: out}, nil
	}
}

func (s *Server) createUser(r *http.Request, body []byte) (any, error) {
	var in struct {
		UserName string `json:"userName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	u, err := s.dir.CreateUser(r.Context(), in.UserName)
	if err != nil {
		return nil, err
	}
	return map[string]any{"User": u}, nil
}

func (s *Server) listUsers(r *http.Request, _ []byte) (any, error) {
	users, err := s.dir.ListUsers(r.Context())
	if err != nil {
		return nil, err
	}
	if users == nil {
		users = []access.User{}
	}
	return map[string]any{"Users": users}, nil
}

func (s *Server) deleteUser(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.dir.DeleteUser(r.Context(), r.PathValue("userName"))
}

func (s *Server) deleteAccessKey(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.dir.DeleteAccessKey(r.Context(), r.PathValue("userName"), r.PathValue("accessKeyId"))
}

func (s *Server) putUserPolicy(r *http.Request, body []byte) (any, error) {
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.PolicyDocument == "" {
		return nil, &jobs.ValidationError{Field: "policyDocument", Rule: "is required: the policy's JSON as a string"}
	}
	return struct{}{}, s.dir.PutUserPolicy(r.Context(), r.PathValue("userName"), r.PathValue("policyName"), in.PolicyDocument)
}

func (s *Server) getUserPolicy(r *http.Request, _ []byte) (any, error) {
	return s.dir.GetUserPolicy(r.Context(), r.PathValue("userName"), r.PathValue("policyName"))
}

func (s *Server) deleteUserPolicy(r *http.Request, _ []byte) (any, error) {
	return struct{}{}, s.dir.DeleteUserPolicy(r.Context(), r.PathValue("userName"), r.PathValue("policyName"))
}
