package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mvorch/mvorch/runner/transport"
)

// registryClient speaks HTTP to the registry as its host sees it, through
// that host's SSH connection.
func registryClient(c *transport.Client) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
				return c.DialTCP(ctx, addr)
			},
			DisableKeepAlives: true,
		},
	}
}

// probeRegistry records which [[image]] tags the registry serves, on the
// registry host's facts. A registry that does not answer serves nothing.
func (r *Runner) probeRegistry(ctx context.Context) {
	reg := r.inv.Registry
	if reg == nil || len(r.inv.Images) == 0 {
		return
	}
	f := r.facts[reg.Host]
	if f == nil {
		return
	}
	hc := registryClient(r.clients[reg.Host])
	addr := r.inv.RegistryAddr()
	f.RegistryTags = map[string]bool{}
	repos := map[string]bool{}
	for _, img := range r.inv.Images {
		repo, _, _ := strings.Cut(img.Tag, ":")
		if repos[repo] {
			continue
		}
		repos[repo] = true
		tags, err := registryTags(ctx, hc, addr, repo)
		if err != nil {
			continue
		}
		f.RegistryUp = true
		for _, t := range tags {
			f.RegistryTags[repo+":"+t] = true
		}
	}
}

func registryTags(ctx context.Context, hc *http.Client, addr, repo string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/"+repo+"/tags/list", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registry %s: %s", addr, resp.Status)
	}
	var body struct{ Tags []string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	return body.Tags, nil
}

// waitRegistry polls /v2/ until the registry answers, with a short backoff.
func waitRegistry(ctx context.Context, c *transport.Client, addr string, timeout time.Duration) error {
	hc := registryClient(c)
	err := poll(ctx, timeout, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry %s did not answer within %s: %w", addr, timeout, err)
	}
	return nil
}
