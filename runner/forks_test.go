package runner

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mvorch/mvorch/inventory"
)

// --forks N: at most N hosts are worked on at once, and every host is.
func TestForEachHostHonoursForks(t *testing.T) {
	inv := &inventory.Inventory{}
	for i := 1; i <= 7; i++ {
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: fmt.Sprintf("docker%02d", i)})
	}
	for _, forks := range []int{1, 3, 7} {
		r := &Runner{inv: inv, opts: Options{Forks: forks}}
		var mu sync.Mutex
		now, most := 0, 0
		done := map[string]bool{}
		err := r.forEachHost(context.Background(), "test", r.hostNames(), func(_ context.Context, h *inventory.Host) error {
			mu.Lock()
			now++
			most = max(most, now)
			done[h.Name] = true
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			now--
			mu.Unlock()
			return nil
		})
		if err != nil || len(done) != 7 || most != forks {
			t.Errorf("forks %d: %d hosts done, at most %d at once, err %v; want 7 done, %d at once", forks, len(done), most, err, forks)
		}
	}
}
