package analysis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/certsleuth/certsleuth/record"
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
// It follows the Go types (walked by reflection once per type, into
// functions over the value's address), so a field added to Item,
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

// codec writes and reads one Go type. Both work on the value's address
// (its fields at their offsets, as the type's layout has them): the type
// is walked by reflection once, not at every value.
type codec struct {
	enc func(b []byte, p unsafe.Pointer) ([]byte, error)
	dec func(r *codecReader, p unsafe.Pointer) error
}

// codecs caches the codec of each type.
var codecs sync.Map // reflect.Type -> *codec

// codecFor returns the codec of t.
func codecFor(t reflect.Type) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	return buildCodec(t, map[reflect.Type]*codec{})
}

// buildCodec makes the codec of t; building holds those being made, for
// a type that contains itself (Cause.Either).
func buildCodec(t reflect.Type, building map[reflect.Type]*codec) *codec {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec)
	}
	if c, ok := building[t]; ok {
		return c
	}
	c := &codec{}
	building[t] = c
	switch t.Kind() {
	case reflect.String:
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			s := *(*string)(p)
			return append(binary.AppendUvarint(b, uint64(len(s))), s...), nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			n, err := r.length()
			if err != nil {
				return err
			}
			if n > 0 {
				*(*string)(p) = unsafe.String(&r.b[0], n)
			} else {
				*(*string)(p) = "" // the target may be reused (decodes overwrite)
			}
			r.b = r.b[n:]
			return nil
		}
	case reflect.Bool:
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			if *(*bool)(p) {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			v, err := r.byteVal()
			if err == nil && v > 1 {
				err = fmt.Errorf("a bool of %d", v)
			}
			*(*bool)(p) = v == 1
			return err
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		size := t.Size()
		shift := 64 - 8*size // to sign-extend the size-byte bits
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.AppendVarint(b, int64(loadBits(p, size)<<shift)>>shift), nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			x, n := binary.Varint(r.b)
			if n <= 0 {
				return errCodecShort
			}
			r.b = r.b[n:]
			if int64(uint64(x)<<shift)>>shift != x {
				return fmt.Errorf("%d overflows a %s", x, t)
			}
			storeBits(p, size, uint64(x))
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		size := t.Size()
		shift := 64 - 8*size
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.AppendUvarint(b, loadBits(p, size)), nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			x, err := r.uvarint()
			if err != nil {
				return err
			}
			if x<<shift>>shift != x {
				return fmt.Errorf("%d overflows a %s", x, t)
			}
			storeBits(p, size, x)
			return nil
		}
	case reflect.Float32, reflect.Float64:
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return binary.AppendUvarint(b, math.Float64bits(reflect.NewAt(t, p).Elem().Float())), nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			x, err := r.uvarint()
			if err == nil {
				reflect.NewAt(t, p).Elem().SetFloat(math.Float64frombits(x))
			}
			return err
		}
	case reflect.Pointer:
		elem := buildCodec(t.Elem(), building)
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				return append(b, 0), nil
			}
			return elem.enc(append(b, 1), q)
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			v, err := r.byteVal()
			switch {
			case err != nil:
				return err
			case v == 0:
				*(*unsafe.Pointer)(p) = nil
				return nil
			case v > 1:
				return fmt.Errorf("a pointer flag of %d", v)
			}
			if r.depth++; r.depth > maxCodecDepth {
				return errors.New("nested too deep")
			}
			q := *(*unsafe.Pointer)(p) // a reused target's: decoded over
			if q == nil {
				q = reflect.New(t.Elem()).UnsafePointer()
			}
			if err := elem.dec(r, q); err != nil {
				return err
			}
			r.depth--
			*(*unsafe.Pointer)(p) = q
			return nil
		}
	case reflect.Slice:
		et := t.Elem()
		if et.Kind() == reflect.Uint8 {
			c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
				s := *(*[]byte)(p)
				if s == nil {
					return append(b, 0), nil
				}
				return append(binary.AppendUvarint(b, uint64(len(s))+1), s...), nil
			}
			c.dec = func(r *codecReader, p unsafe.Pointer) error {
				n, err := r.count()
				if err != nil {
					return err
				}
				if n < 0 {
					*(*[]byte)(p) = nil
					return nil
				}
				*(*[]byte)(p) = append([]byte{}, r.b[:n]...)
				r.b = r.b[n:]
				return nil
			}
			break
		}
		elem, size := buildCodec(et, building), et.Size()
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return append(b, 0), nil
			}
			n := v.Len()
			b = binary.AppendUvarint(b, uint64(n)+1)
			base := v.UnsafePointer()
			for i := range n {
				var err error
				if b, err = elem.enc(b, unsafe.Add(base, uintptr(i)*size)); err != nil {
					return b, err
				}
			}
			return b, nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			n, err := r.count()
			if err != nil {
				return err
			}
			v := reflect.NewAt(t, p).Elem()
			if n < 0 {
				v.SetZero()
				return nil
			}
			if r.depth++; r.depth > maxCodecDepth {
				return errors.New("nested too deep")
			}
			if v.Cap() >= n && v.Cap() > 0 {
				// A reused target's array, its elements decoded over.
				v.SetLen(n)
			} else {
				v.Set(reflect.MakeSlice(t, n, n))
			}
			base := v.UnsafePointer()
			for i := range n {
				if err := elem.dec(r, unsafe.Add(base, uintptr(i)*size)); err != nil {
					return err
				}
			}
			r.depth--
			return nil
		}
	case reflect.Array:
		elem, size, n := buildCodec(t.Elem(), building), t.Elem().Size(), t.Len()
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			for i := range n {
				var err error
				if b, err = elem.enc(b, unsafe.Add(p, uintptr(i)*size)); err != nil {
					return b, err
				}
			}
			return b, nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			for i := range n {
				if err := elem.dec(r, unsafe.Add(p, uintptr(i)*size)); err != nil {
					return err
				}
			}
			return nil
		}
	case reflect.Struct:
		if t == timeType {
			c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
				tb, err := (*time.Time)(p).MarshalBinary()
				return append(binary.AppendUvarint(b, uint64(len(tb))), tb...), err
			}
			c.dec = func(r *codecReader, p unsafe.Pointer) error {
				n, err := r.length()
				if err != nil {
					return err
				}
				err = (*time.Time)(p).UnmarshalBinary(r.b[:n])
				r.b = r.b[n:]
				return err
			}
			break
		}
		type field struct {
			name string
			off  uintptr
			c    *codec
		}
		var fs []field
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				fs = append(fs, field{f.Name, f.Offset, buildCodec(f.Type, building)})
			}
		}
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) {
			for _, f := range fs {
				var err error
				if b, err = f.c.enc(b, unsafe.Add(p, f.off)); err != nil {
					return b, fmt.Errorf("%s.%s: %w", t, f.name, err)
				}
			}
			return b, nil
		}
		c.dec = func(r *codecReader, p unsafe.Pointer) error {
			for _, f := range fs {
				if err := f.c.dec(r, unsafe.Add(p, f.off)); err != nil {
					return fmt.Errorf("%s.%s: %w", t, f.name, err)
				}
			}
			return nil
		}
	default:
		err := fmt.Errorf("cannot write a %s", t)
		c.enc = func(b []byte, p unsafe.Pointer) ([]byte, error) { return b, err }
		c.dec = func(r *codecReader, p unsafe.Pointer) error { return fmt.Errorf("cannot read a %s", t) }
	}
	delete(building, t)
	if len(building) == 0 {
		codecs.Store(t, c)
	}
	return c
}

// loadBits returns the bits of the size-byte integer at p.
func loadBits(p unsafe.Pointer, size uintptr) uint64 {
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// storeBits stores the low size bytes of x in the integer at p.
func storeBits(p unsafe.Pointer, size uintptr, x uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(x)
	case 2:
		*(*uint16)(p) = uint16(x)
	case 4:
		*(*uint32)(p) = uint32(x)
	default:
		*(*uint64)(p) = x
	}
}

// appendValue appends the binary form of v to b.
func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	p := reflect.New(v.Type())
	p.Elem().Set(v)
	return codecFor(v.Type()).enc(b, p.UnsafePointer())
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

// length reads the length of a string (or of time's bytes): no more
// than the bytes left.
func (r *codecReader) length() (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b)) {
		return 0, fmt.Errorf("a length of %d with %d bytes left", n, len(r.b))
	}
	return int(n), nil
}

// count reads the length of a slice, nil as -1: each element takes a
// byte at least.
func (r *codecReader) count() (int, error) {
	n, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(r.b))+1 {
		return 0, fmt.Errorf("%d elements with %d bytes left", n-1, len(r.b))
	}
	return int(n) - 1, nil
}

func (r *codecReader) byteVal() (byte, error) {
	if len(r.b) == 0 {
		return 0, errCodecShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

var spilledType = reflect.TypeFor[spilled]()

// appendSpilled appends the binary form of it to b, as encodeSpilled
// writes it in JSON: the item, its observation without the certificates'
// DER and the body, and how many certificates it had.
func appendSpilled(b []byte, it *Item) ([]byte, error) {
	var s spillScratch
	return s.append(b, it, nil, false)
}

// spillScratch holds the copies of an item and its observation that
// appendSpilled encodes (the codec reads them through pointers: made anew
// for each item, they were 11 MB of what pcap --format json hs.pcap
// allocates); a writer reuses one.
type spillScratch struct {
	o  record.Observation
	it Item
	sp spilled
}

// append is appendSpilled; with compact, of compactItem's copy of it
// whose findings are findings (compactFindings), without making it.
func (s *spillScratch) append(b []byte, it *Item, findings []Finding, compact bool) ([]byte, error) {
	s.o = *it.Obs
	s.o.Chain, s.o.Body = nil, nil
	s.it = *it
	s.it.Obs, s.it.leaf = nil, nil
	if compact {
		s.it.Verdicts, s.it.Findings = nil, findings
	}
	s.sp = spilled{Item: &s.it, Obs: &s.o, Chain: len(it.Obs.Chain)}
	b, err := codecFor(spilledType).enc(b, unsafe.Pointer(&s.sp))
	*s = spillScratch{} // holds nothing of it
	return b, err
}

// readSpilled reads the item appendSpilled wrote in b, the whole of b
// (which the item's strings then share).
func readSpilled(b []byte) (*Item, error) {
	return readSpilledInto(b, &spilled{})
}

// readSpilledInto is readSpilled decoding over sp: the item is made of
// the memory of the one sp last held (its objects, and its slices' arrays
// where they are big enough), which must be gone.
func readSpilledInto(b []byte, sp *spilled) (*Item, error) {
	r := codecReader{b: b}
	if err := codecFor(spilledType).dec(&r, unsafe.Pointer(sp)); err != nil {
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
