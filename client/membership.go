package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/dynamokv/dynamo/api"
)

// Leave asks the first seed that answers to have member id leave the
// cluster: it hands its partitions to their new owners and then holds
// none. Remove is for a member gone for good: the other replicas rebuild
// its partitions. Both return the membership after the change; an *Error
// with status 400 says why the change was refused, and nothing changed.
func Leave(ctx context.Context, cfg Config, id string) (api.Membership, error) {
	return changeMembership(ctx, cfg, api.LeavePath, id)
}

// Remove is Leave for a member that is gone for good; see Leave.
func Remove(ctx context.Context, cfg Config, id string) (api.Membership, error) {
	return changeMembership(ctx, cfg, api.RemovePath, id)
}

func changeMembership(ctx context.Context, cfg Config, path, id string) (api.Membership, error) {
	if id == "" {
		return api.Membership{}, errors.New("client: no member ID given")
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		return api.Membership{}, err
	}
	hc := newHTTPClient(cfg.Timeout)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var errs []error
	for _, base := range cfg.Seeds {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path+"?node="+url.QueryEscape(id), nil)
		if err != nil {
			return api.Membership{}, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			// Not sent (refused, unreachable): the next seed may take it.
			errs = append(errs, fmt.Errorf("%s: %w", base, unwrapURLError(err)))
			continue
		}
		body, err := readBody(resp)
		resp.Body.Close()
		if err != nil {
			return api.Membership{}, fmt.Errorf("%s: %w (the change may or may not have been made: dynamo status shows the membership)", base, err)
		}
		if resp.StatusCode != http.StatusOK {
			return api.Membership{}, fmt.Errorf("%s: %w", base, replyError(resp.StatusCode, body))
		}
		var m api.Membership
		if err := json.Unmarshal(body, &m); err != nil {
			return api.Membership{}, fmt.Errorf("%s: the answer is not JSON: %w", base, err)
		}
		return m, nil
	}
	return api.Membership{}, fmt.Errorf("client: no node answered %s: %w", path, errors.Join(errs...))
}
