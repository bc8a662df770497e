package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mvorch/mvorch/runner/sh"
	"github.com/mvorch/mvorch/runner/transport"
	"github.com/mvorch/mvorch/steps"
)

// dockerSocket is where dockerd serves its API on a host.
const dockerSocket = "/var/run/docker.sock"

// dockerAPI speaks dockerd's Engine API on one host through the host's SSH
// connection: a streamlocal channel straight to dockerd's socket, which
// starts no process on the host; or, where sshd or the socket's permissions
// refuse that (say, a login user that becomes root through sudo),
// `docker system dial-stdio` run as root. Each of those is a session through
// sudo and the login shell, so they share one connection, kept open (the
// requests are short reads). The docker CLI costs a host tens of
// milliseconds of CPU per call; the API answers in well under one.
type dockerAPI struct {
	hc   *http.Client
	sock *http.Transport // to the socket
	std  *http.Transport // through dial-stdio
	mu   sync.Mutex
	pipe bool // the socket was refused: use dial-stdio
}

func newDockerAPI(c *transport.Client) *dockerAPI {
	d := &dockerAPI{}
	d.sock = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.dial(ctx, c)
		},
		MaxIdleConnsPerHost: 4,
		MaxConnsPerHost:     4,
	}
	d.std = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.Pipe(ctx, sh.New("docker", "system", "dial-stdio").String())
		},
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
	}
	d.hc = &http.Client{Transport: d}
	return d
}

// RoundTrip sends req to the socket, or through dial-stdio once the socket
// was refused.
func (d *dockerAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	pipe := d.pipe
	d.mu.Unlock()
	if pipe {
		return d.std.RoundTrip(req)
	}
	resp, err := d.sock.RoundTrip(req)
	if errors.Is(err, errSocketRefused) {
		return d.std.RoundTrip(req)
	}
	return resp, err
}

// errSocketRefused is the socket's dial failing: dial-stdio takes over.
var errSocketRefused = errors.New("docker's socket refused")

func (d *dockerAPI) dial(ctx context.Context, c *transport.Client) (net.Conn, error) {
	conn, err := c.DialUnix(ctx, dockerSocket)
	if err == nil || ctx.Err() != nil || errors.Is(err, transport.ErrConnectionLost) {
		return conn, err
	}
	d.mu.Lock()
	d.pipe = true
	d.mu.Unlock()
	return nil, fmt.Errorf("%w: %w", errSocketRefused, err)
}

// dockerAPI is the host's API client, one for the whole command (Close
// ends it), so that its connections are kept: through dial-stdio, each is a
// session through sudo and the login shell.
func (r *Runner) dockerAPI(c *transport.Client) *dockerAPI {
	r.apisMu.Lock()
	defer r.apisMu.Unlock()
	if r.apis == nil {
		r.apis = map[*transport.Client]*dockerAPI{}
	}
	d := r.apis[c]
	if d == nil {
		d = newDockerAPI(c)
		r.apis[c] = d
	}
	return d
}

// close ends the idle connections (and so the dial-stdio process).
func (d *dockerAPI) close() {
	d.sock.CloseIdleConnections()
	d.std.CloseIdleConnections()
}

// apiError is a non-2xx answer of dockerd, with its message.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("docker API: %d %s", e.Status, e.Message) }

func (d *dockerAPI) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var m struct{ Message string }
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(b))
		}
		return nil, &apiError{Status: resp.StatusCode, Message: m.Message}
	}
	return resp, nil
}

// get returns the body of GET path.
func (d *dockerAPI) get(ctx context.Context, path string) ([]byte, error) {
	resp, err := d.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return b, nil
}

// dockerSilentError is a dockerd that did not answer GET /info.
type dockerSilentError struct{ err error }

func (e *dockerSilentError) Error() string { return "docker does not answer: " + e.err.Error() }
func (e *dockerSilentError) Unwrap() error { return e.err }

// readDocker reads docker's side of a host's facts: four requests at once,
// then one inspect per container, at once. A dockerd that does not answer
// /info is a *dockerSilentError (see dockerAnswer).
func (r *Runner) readDocker(ctx context.Context, host string) (*steps.DockerAPI, error) {
	d := r.dockerAPI(r.clients[host])
	var api steps.DockerAPI
	paths := []string{"/info", "/networks", "/images/json", "/containers/json?all=1"}
	dst := []*[]byte{&api.Info, &api.Networks, &api.Images, new([]byte)}
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			*dst[i], errs[i] = d.get(ctx, p)
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.clients[host].Err(); err != nil {
			return nil, err
		}
		if r.opts.Verbose >= 2 {
			r.logf("%s: docker does not answer: %v", host, errs[0])
		}
		return nil, &dockerSilentError{errs[0]}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reading docker's state: %w", err)
	}
	var list []struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal(*dst[3], &list); err != nil {
		return nil, fmt.Errorf("reading docker's containers: %w", err)
	}
	api.Containers = make([][]byte, len(list))
	errs = make([]error, len(list))
	for i, c := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api.Containers[i], errs[i] = d.get(ctx, "/containers/"+url.PathEscape(c.ID)+"/json")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			api.Containers[i] = nil // removed since the list was made
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading docker's containers: %w", err)
		}
	}
	kept := api.Containers[:0]
	for _, c := range api.Containers {
		if c != nil {
			kept = append(kept, c)
		}
	}
	api.Containers = kept
	return &api, nil
}

// dockerAnswer decides what a silent dockerd means. A docker.service that
// systemd still shows starting, stopping or reloading after the facts
// script waited a minute for it is a restart under way: said so, not taken
// for a stopped docker. A dockerd whose own pid file names a live process
// is starting (or restarting outside systemd's view): waited for. Otherwise,
// unless systemd says docker is active, docker is not running: no API
// answers, and the steps say what to do about it. An active docker is
// asked again, after a short and then a longer wait (a dockerd busy
// starting containers, say), and a silence that lasts is an error rather
// than a plan made as if docker were stopped.
func (r *Runner) dockerAnswer(ctx context.Context, host string, f *steps.Facts, silent error) (*steps.DockerAPI, error) {
	switch {
	case restarting(f.Docker.Unit):
		return nil, fmt.Errorf("docker is restarting on %s (docker.service is %s, for over a minute now): wait until 'systemctl is-active docker' says active there, then run again", host, f.Docker.Unit)
	case f.Docker.Unit != "active" && f.Docker.DaemonPID > 0:
		var api *steps.DockerAPI
		err := poll(ctx, dockerStartWait, func() error {
			var err error
			api, err = r.readDocker(ctx, host)
			return err
		})
		if errors.As(err, new(*dockerSilentError)) {
			return nil, fmt.Errorf("docker is starting or restarting on %s: dockerd (pid %d) runs but its API did not answer within %s: %w; wait for it (docker info), then run again", host, f.Docker.DaemonPID, dockerStartWait, err)
		}
		return api, err
	case f.Docker.Unit != "active":
		return nil, nil
	}
	for _, wait := range []time.Duration{200 * time.Millisecond, time.Second} {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		api, err := r.readDocker(ctx, host)
		if !errors.As(err, new(*dockerSilentError)) {
			return api, err
		}
		silent = err
	}
	return nil, fmt.Errorf("docker.service is active but dockerd does not answer on %s: %w; check it with docker info", dockerSocket, silent)
}

// dockerStartWait is how long a dockerd that runs but does not answer yet
// is waited for, as a restart of docker is (restartDocker).
const dockerStartWait = 90 * time.Second

// restarting tells whether systemd's ActiveState is a change under way.
func restarting(state string) bool {
	return state == "activating" || state == "deactivating" || state == "reloading"
}
