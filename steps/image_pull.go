package steps

import (
	"github.com/mvorch/mvorch/runner/sh"
)

// ImagePull pulls the registry images a host's containers use (article 4.2,
// step 5 on docker02: docker pull — with the port the article forgot).
type ImagePull struct{}

func (ImagePull) Name() string  { return "image-pull" }
func (ImagePull) Title() string { return "Pull images from the registry" }

func (s ImagePull) Plan(c *Context) ([]*Change, error) {
	if c.Inv.Registry == nil || c.Inv.Registry.Host == c.Host.Name {
		return nil, nil
	}
	var out []*Change
	for _, ref := range c.Inv.ImagesUsedOn(c.Host.Name) {
		if _, ok := c.Facts.Docker.Images[imageKey(ref)]; ok {
			continue
		}
		ch := c.newChange(s, ActionAdd, "image "+ref)
		ch.Detail = "docker pull"
		ch.Do = []Op{exec(sh.New("docker", "pull", "--", ref))}
		ch.Undo = []Op{exec(sh.New("docker", "rmi", "--", ref).Raw(">/dev/null 2>&1 || true"))}
		c.Facts.Docker.Images[imageKey(ref)] = "pulled"
		out = append(out, ch)
	}
	return out, nil
}
