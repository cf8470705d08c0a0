package client

import (
	"context"
	"errors"
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
	var m api.Membership
	err := postAdmin(ctx, cfg, path+"?node="+url.QueryEscape(id), &m)
	return m, err
}
