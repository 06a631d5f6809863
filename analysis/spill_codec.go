package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"
	"unsafe"
)

// The binary form of the detail store's requests (details): the culprits'
// first requests and examples are written to a temporary file as they
// come and read back one at a time when a report explains its causes.
// JSON took a fifth of `certsleuth pcap --format json`'s CPU time for
// hs.pcap (13,810 requests of 2.9 KB: json.Unmarshal checks and scans
// every byte, matches every key by name); this form is read in a single
// pass with no names, and gives back the item as it was in memory (nil
// and empty lists apart, times to the nanosecond with their offset).
//
// It follows the Go types by reflection, so a field added to Item,
// Observation, Finding, Cause or certs.Summary is carried without
// change here: exported fields in declaration order; a string, a slice
// (and the byte slices of time.Time's MarshalBinary) as a uvarint length
// then its elements, a slice's length plus one (0 is nil); a pointer as a
// byte 0 (nil) or 1 then the value; a bool as a byte; integers as
// varints; floats as their IEEE bits. A map, interface, channel or
// function field is refused at the first write (TestDetailCodecRoundTrip
// encodes every scenario's items). The decoder trusts nothing: lengths
// are bounded by the bytes left, nesting by maxCodecDepth, and bad input
// is an error.

// maxCodecDepth bounds the nesting of decoded values (Cause.Either nests
// causes in causes).
const maxCodecDepth = 32

var timeType = reflect.TypeFor[time.Time]()

// codecFields caches the exported fields of each struct type, by index.
var codecFields sync.Map // reflect.Type -> []int

func exportedFields(t reflect.Type) []int {
	if f, ok := codecFields.Load(t); ok {
		return f.([]int)
	}
	var out []int
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			out = append(out, i)
		}
	}
	codecFields.Store(t, out)
	return out
}

// appendValue appends the binary form of v to b.
func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...), nil
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.AppendUvarint(b, math.Float64bits(v.Float())), nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendValue(append(b, 1), v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return append(b, v.Bytes()...), nil
		}
		for i := range v.Len() {
			var err error
			if b, err = appendValue(b, v.Index(i)); err != nil {
				return b, err
			}
		}
		return b, nil
	case reflect.Array:
		for i := range v.Len() {
			var err error
			if b, err = appendValue(b, v.Index(i)); err != nil {
				return b, err
			}
		}
		return b, nil
	case reflect.Struct:
		if v.Type() == timeType {
			t, err := v.Interface().(time.Time).MarshalBinary()
			if err != nil {
				return b, err
			}
			b = binary.AppendUvarint(b, uint64(len(t)))
			return append(b, t...), nil
		}
		for _, i := range exportedFields(v.Type()) {
			var err error
			if b, err = appendValue(b, v.Field(i)); err != nil {
				return b, fmt.Errorf("%s.%s: %w", v.Type(), v.Type().Field(i).Name, err)
			}
		}
		return b, nil
	}
	return b, fmt.Errorf("cannot write a %s", v.Type())
}

var errCodecShort = errors.New("cut short")

// codecReader reads the binary form from b. The strings it makes share
// b's bytes (b is not written afterwards).
type codecReader struct {
	b     []byte
	depth int
}

func (r *codecReader) uvarint() (uint64, error) {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, errCodecShort
	}
	r.b = r.b[n:]
	return x, nil
}

// length reads a length of items of at least min bytes each.
func (r *codecReader) length(min int) (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b)/min) {
		return 0, fmt.Errorf("a length of %d with %d bytes left", n, len(r.b))
	}
	return int(n), nil
}

func (r *codecReader) byteVal() (byte, error) {
	if len(r.b) == 0 {
		return 0, errCodecShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// value reads into v, which is settable and zero.
func (r *codecReader) value(v reflect.Value) error {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxCodecDepth {
		return errors.New("nested too deep")
	}
	switch v.Kind() {
	case reflect.String:
		n, err := r.length(1)
		if err != nil {
			return err
		}
		if n > 0 {
			v.SetString(unsafe.String(&r.b[0], n))
		}
		r.b = r.b[n:]
		return nil
	case reflect.Bool:
		c, err := r.byteVal()
		if err != nil {
			return err
		}
		if c > 1 {
			return fmt.Errorf("a bool of %d", c)
		}
		v.SetBool(c == 1)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(r.b)
		if n <= 0 {
			return errCodecShort
		}
		r.b = r.b[n:]
		if v.OverflowInt(x) {
			return fmt.Errorf("%d overflows a %s", x, v.Type())
		}
		v.SetInt(x)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		if v.OverflowUint(x) {
			return fmt.Errorf("%d overflows a %s", x, v.Type())
		}
		v.SetUint(x)
		return nil
	case reflect.Float32, reflect.Float64:
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		v.SetFloat(math.Float64frombits(x))
		return nil
	case reflect.Pointer:
		c, err := r.byteVal()
		switch {
		case err != nil:
			return err
		case c == 0:
			return nil
		case c > 1:
			return fmt.Errorf("a pointer flag of %d", c)
		}
		p := reflect.New(v.Type().Elem())
		if err := r.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Slice:
		n, err := r.length(1)
		if err != nil || n == 0 {
			return err
		}
		n--
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(append([]byte(nil), r.b[:n]...))
			r.b = r.b[n:]
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if err := r.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Array:
		for i := range v.Len() {
			if err := r.value(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if v.Type() == timeType {
			n, err := r.length(1)
			if err != nil {
				return err
			}
			var t time.Time
			if err := t.UnmarshalBinary(r.b[:n]); err != nil {
				return err
			}
			r.b = r.b[n:]
			v.Set(reflect.ValueOf(t))
			return nil
		}
		for _, i := range exportedFields(v.Type()) {
			if err := r.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", v.Type(), v.Type().Field(i).Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("cannot read a %s", v.Type())
}

// appendSpilled appends the binary form of it to b, as encodeSpilled
// writes it in JSON: the item, its observation without the certificates'
// DER and the body, and how many certificates it had.
func appendSpilled(b []byte, it *Item) ([]byte, error) {
	o := *it.Obs
	o.Chain, o.Body = nil, nil
	cp := *it
	cp.Obs, cp.leaf = nil, nil
	return appendValue(b, reflect.ValueOf(spilled{Item: &cp, Obs: &o, Chain: len(it.Obs.Chain)}))
}

// readSpilled reads the item appendSpilled wrote in b, the whole of b
// (which the item's strings then share).
func readSpilled(b []byte) (*Item, error) {
	r := codecReader{b: b}
	var sp spilled
	if err := r.value(reflect.ValueOf(&sp).Elem()); err != nil {
		return nil, err
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%d bytes after the request", len(r.b))
	}
	if sp.Chain < 0 || sp.Chain > len(b) {
		return nil, fmt.Errorf("a chain of %d certificates", sp.Chain)
	}
	return sp.item()
}
