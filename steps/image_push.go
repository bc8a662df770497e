package steps

import (
	"fmt"
	"strings"

	"github.com/mvorch/mvorch/runner/sh"
)

// ImagePush tags each image for the registry and pushes it, on the registry
// host (article 4.2, step 5: docker tag, docker push).
type ImagePush struct{}

func (ImagePush) Name() string  { return "image-push" }
func (ImagePush) Title() string { return "Tag and push images to the registry" }

func (s ImagePush) Plan(c *Context) ([]*Change, error) {
	r := c.Inv.Registry
	if r == nil || r.Host != c.Host.Name {
		return nil, nil
	}
	imgs := c.Facts.Docker.Images
	var out []*Change
	for _, img := range c.Inv.Images {
		src := imageKey(img.Source)
		srcID, ok := imgs[src]
		if !ok {
			return nil, fmt.Errorf("image %s is not on %s (the registry host), and mvorch pulls nothing from the internet: docker load or build it there first", img.Source, c.Host.Name)
		}
		ref := c.Inv.ImageRef(img.Tag)
		tagged := imgs[ref] == srcID
		pushed := c.Facts.RegistryTags[repoTag(ref)] && tagged
		if tagged && pushed {
			continue
		}
		ch := c.newChange(s, ActionAdd, "image "+ref)
		var do []Op
		if !tagged {
			do = append(do, exec(sh.New("docker", "tag", "--", img.Source, ref)))
			if old, had := imgs[ref]; had {
				ch.Undo = []Op{exec(sh.New("docker", "tag", "--", old, ref))}
			} else {
				ch.Undo = []Op{exec(sh.New("docker", "rmi", "--", ref).Raw(">/dev/null 2>&1 || true"))}
			}
		}
		ch.Do = append(do, exec(sh.New("docker", "push", "--", ref)))
		ch.Detail = "push"
		if !tagged {
			ch.Detail = "tag " + img.Source + ", push"
		}
		imgs[ref] = srcID
		if c.Facts.RegistryTags == nil {
			c.Facts.RegistryTags = map[string]bool{}
		}
		c.Facts.RegistryTags[repoTag(ref)] = true
		out = append(out, ch)
	}
	return out, nil
}

// repoTag is "repository:tag" of a registry reference, without the registry.
func repoTag(ref string) string {
	_, rest, _ := strings.Cut(ref, "/")
	return rest
}
