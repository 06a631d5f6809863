package analysis

// ItemSink receives the items of a report one at a time, in input order,
// as soon as each is final (judged, with its origin and every finding):
// the JSON renderer writes its line, the --all lists of the other formats
// write or spill their row. The pipeline keeps no item list of its own.
type ItemSink interface {
	// Item takes one final item. The item and what it points to may be
	// shared with other items (findings, verdicts, chain summaries): the
	// sink must not modify them. An error stops the pipeline and is
	// returned by it.
	Item(it *Item) error
}

// ItemSinkFunc is a function used as an ItemSink.
type ItemSinkFunc func(it *Item) error

// Item calls f(it).
func (f ItemSinkFunc) Item(it *Item) error { return f(it) }

// Collect is an ItemSink that keeps every item, for small inputs (the
// proxy's and check's reports, tests).
type Collect struct {
	Items []*Item
}

// Item appends it to c.Items.
func (c *Collect) Item(it *Item) error {
	c.Items = append(c.Items, it)
	return nil
}

// Discard is an ItemSink that drops every item (a report of the causes
// only).
var Discard ItemSink = ItemSinkFunc(func(*Item) error { return nil })
