package store

import (
	"context"
	"slices"
	"testing"
)

// outlineIndex is an AliasIndex whose OSes and releases a test sets, and
// which counts how often they are read.
type outlineIndex struct {
	AliasIndex
	oses     []string
	releases map[string][]string
	reads    int
}

func (ix *outlineIndex) OSes(context.Context) ([]string, error) {
	ix.reads++
	return slices.Clone(ix.oses), nil
}

func (ix *outlineIndex) NewestReleases(_ context.Context, os string, n int) ([]string, error) {
	ix.reads++
	rs := ix.releases[os]
	return slices.Clone(rs[:min(n, len(rs))]), nil
}

// TestAliasOutlineFollowsTheGeneration: OSes and NewestReleases are read
// once per generation, and read again, with what changed, as soon as the
// generation moves on.
func TestAliasOutlineFollowsTheGeneration(t *testing.T) {
	under := &outlineIndex{oses: []string{"debian", "ubuntu"}, releases: map[string][]string{"ubuntu": {"24.04", "22.04"}}}
	var o AliasOutline
	gen := int64(1)
	ix := WithOutline(under, &o, func(context.Context) (int64, error) { return gen, nil })
	ctx := context.Background()
	ask := func() (oses, ubuntu, ubuntu1 []string) {
		t.Helper()
		oses, err := ix.OSes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ubuntu, err = ix.NewestReleases(ctx, "ubuntu", 3); err != nil {
			t.Fatal(err)
		}
		if ubuntu1, err = ix.NewestReleases(ctx, "ubuntu", 1); err != nil {
			t.Fatal(err)
		}
		return oses, ubuntu, ubuntu1
	}
	for range 3 {
		oses, ubuntu, ubuntu1 := ask()
		if !slices.Equal(oses, []string{"debian", "ubuntu"}) || !slices.Equal(ubuntu, []string{"24.04", "22.04"}) || !slices.Equal(ubuntu1, []string{"24.04"}) {
			t.Fatalf("generation 1: %v %v %v", oses, ubuntu, ubuntu1)
		}
	}
	if under.reads != 3 {
		t.Errorf("generation 1 read the index %d times, want 3 (once per lookup)", under.reads)
	}

	under.oses = append(under.oses, "zorin")
	under.releases["ubuntu"] = []string{"26.04", "24.04", "22.04"}
	if oses, ubuntu, _ := ask(); !slices.Equal(oses, []string{"debian", "ubuntu"}) || ubuntu[0] != "24.04" {
		t.Errorf("within generation 1 the outline changed: %v %v", oses, ubuntu)
	}
	gen = 2
	oses, ubuntu, ubuntu1 := ask()
	if !slices.Equal(oses, []string{"debian", "ubuntu", "zorin"}) || !slices.Equal(ubuntu, []string{"26.04", "24.04", "22.04"}) || !slices.Equal(ubuntu1, []string{"26.04"}) {
		t.Errorf("generation 2: %v %v %v", oses, ubuntu, ubuntu1)
	}
	if under.reads != 6 {
		t.Errorf("after generation 2, %d reads of the index, want 6", under.reads)
	}
	// What callers get is theirs: appending to it changes nothing kept.
	_ = append(oses, "mutated")
	if again, _ := ix.OSes(ctx); len(again) != 3 {
		t.Errorf("a caller's append reached the outline: %v", again)
	}
}
