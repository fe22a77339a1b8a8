package listing

import "testing"

// TestListedBytes checks how the index splits its budget with the images
// it keeps: a small index leaves them most of it, a large one the floor.
func TestListedBytes(t *testing.T) {
	if got := listedBytes(1 << 20); got != listedBudget-1<<20 || got < 20<<20 {
		t.Errorf("an index of 1 MB leaves %d bytes, want %d", got, listedBudget-1<<20)
	}
	if got := listedBytes(40 << 20); got != minListedBytes {
		t.Errorf("an index over the budget leaves %d bytes, want the floor %d", got, minListedBytes)
	}
	if small, large := listedBytes(4<<20), listedBytes(16<<20); small <= large {
		t.Errorf("a larger index leaves as much room or more: %d against %d", large, small)
	}
}
