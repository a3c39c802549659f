package main

// A QR code encoder (ISO/IEC 18004) for the links the command line prints,
// built like the web UI's (assets/ui/qr.js): byte mode, versions 1 to 10.
// It uses error correction level L rather than M: a terminal shows the
// code undamaged, and L keeps a usual link (about 110 bytes) at version 6,
// which fits a 24-line terminal with its quiet zone. A link carries its
// key, so every buffer made here is zeroed before it is dropped; the
// caller wipes the code with wipe.

import "io"

// qrBlocks describes level L for versions 1..10: error correction
// codewords per block, blocks in group 1, data codewords each, blocks in
// group 2, data codewords each.
var qrBlocks = [11][5]int{{},
	{7, 1, 19, 0, 0}, {10, 1, 34, 0, 0}, {15, 1, 55, 0, 0}, {20, 1, 80, 0, 0},
	{26, 1, 108, 0, 0}, {18, 2, 68, 0, 0}, {20, 2, 78, 0, 0}, {24, 2, 97, 0, 0},
	{30, 2, 116, 0, 0}, {18, 2, 68, 2, 69}}

// qrLevel is level L's two bits in the format information.
const qrLevel = 1

// qrAlign lists the centres of the alignment patterns per version.
var qrAlign = [11][]int{nil, {}, {6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34},
	{6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50}}

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
var gfExp, gfLog = func() (exp [512]byte, log [256]byte) {
	x := 1
	for i := range 255 {
		exp[i] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11d
		}
	}
	for i := 255; i < 512; i++ {
		exp[i] = exp[i-255]
	}
	return exp, log
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// rsGenerator returns the coefficients of prod(x - a^i), i < n, highest
// degree first, the leading 1 dropped.
func rsGenerator(n int) []byte {
	g := []byte{1}
	for i := range n {
		next := make([]byte, len(g)+1)
		for j, c := range g {
			next[j] ^= c
			next[j+1] ^= gfMul(c, gfExp[i])
		}
		g = next
	}
	return g[1:]
}

// rsRemainder writes the n check codewords of data into rem.
func rsRemainder(data, rem []byte) {
	g := rsGenerator(len(rem))
	clear(rem)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[len(rem)-1] = 0
		for i := range rem {
			rem[i] ^= gfMul(g[i], f)
		}
	}
}

func qrCapacity(v int) int {
	b := qrBlocks[v]
	return b[1]*b[2] + b[3]*b[4]
}

// qrVersion is the smallest version that holds n bytes, or 0.
func qrVersion(n int) int {
	for v := 1; v < len(qrBlocks); v++ {
		countBits := 8
		if v >= 10 {
			countBits = 16
		}
		if 4+countBits+8*n <= 8*qrCapacity(v) {
			return v
		}
	}
	return 0
}

// qrCodewords returns the interleaved data and check codewords of text.
func qrCodewords(text []byte, v int) []byte {
	capacity := qrCapacity(v)
	data := make([]byte, capacity)
	defer clear(data)
	bit := 0
	put := func(value, n int) {
		for i := n - 1; i >= 0; i-- {
			if value>>i&1 == 1 {
				data[bit>>3] |= 0x80 >> (bit & 7)
			}
			bit++
		}
	}
	put(4, 4) // byte mode
	if v < 10 {
		put(len(text), 8)
	} else {
		put(len(text), 16)
	}
	for _, c := range text {
		put(int(c), 8)
	}
	bit += min(4, capacity*8-bit) // terminator
	bit = (bit + 7) &^ 7
	for i, pad := bit/8, byte(0xec); i < capacity; i, pad = i+1, pad^0xec^0x11 {
		data[i] = pad
	}

	b := qrBlocks[v]
	nblocks := b[1] + b[3]
	blocks := make([][]byte, nblocks)
	checks := make([]byte, nblocks*b[0])
	defer clear(checks)
	at := 0
	for i := range nblocks {
		n := b[2]
		if i >= b[1] {
			n = b[4]
		}
		blocks[i] = data[at : at+n]
		at += n
		rsRemainder(blocks[i], checks[i*b[0]:(i+1)*b[0]])
	}
	out := make([]byte, 0, capacity+len(checks))
	for i := range max(b[2], b[4]) {
		for _, bl := range blocks {
			if i < len(bl) {
				out = append(out, bl[i])
			}
		}
	}
	for i := range b[0] {
		for j := range nblocks {
			out = append(out, checks[j*b[0]+i])
		}
	}
	return out
}

// qrCode is a QR code's modules, row by row, true for dark.
type qrCode struct {
	size        int
	dark, fixed []bool
}

func newQRCode(v int) *qrCode {
	n := 17 + 4*v
	return &qrCode{size: n, dark: make([]bool, n*n), fixed: make([]bool, n*n)}
}

func (q *qrCode) at(x, y int) bool { return q.dark[y*q.size+x] }

func (q *qrCode) set(x, y int, dark bool) {
	q.dark[y*q.size+x] = dark
	q.fixed[y*q.size+x] = true
}

// wipe zeroes the modules: they spell out the link.
func (q *qrCode) wipe() {
	clear(q.dark)
	clear(q.fixed)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (q *qrCode) functionPatterns(v int) {
	n := q.size
	for i := range n { // timing patterns
		q.set(6, i, i%2 == 0)
		q.set(i, 6, i%2 == 0)
	}
	for _, c := range [][2]int{{3, 3}, {n - 4, 3}, {3, n - 4}} { // finders, separators
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				x, y := c[0]+dx, c[1]+dy
				if x < 0 || y < 0 || x >= n || y >= n {
					continue
				}
				d := max(abs(dx), abs(dy))
				q.set(x, y, d != 2 && d != 4)
			}
		}
	}
	pos := qrAlign[v]
	for i, cy := range pos {
		for j, cx := range pos {
			last := len(pos) - 1
			if i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0 {
				continue // the finders are there
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					q.set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	q.format(0) // reserves the format areas; drawn again with the mask
	if v >= 7 {
		rem := v
		for range 12 {
			rem = rem<<1 ^ (rem>>11)*0x1f25
		}
		bits := v<<12 | rem
		for i := range 18 {
			dark := bits>>i&1 == 1
			a, b := n-11+i%3, i/3
			q.set(a, b, dark)
			q.set(b, a, dark)
		}
	}
}

// format draws the format information for the level and mask.
func (q *qrCode) format(mask int) {
	n := q.size
	data := qrLevel<<3 | mask
	rem := data
	for range 10 {
		rem = rem<<1 ^ (rem>>9)*0x537
	}
	bits := (data<<10 | rem) ^ 0x5412
	bit := func(i int) bool { return bits>>i&1 == 1 }
	for i := 0; i <= 5; i++ {
		q.set(8, i, bit(i))
	}
	q.set(8, 7, bit(6))
	q.set(8, 8, bit(7))
	q.set(7, 8, bit(8))
	for i := 9; i < 15; i++ {
		q.set(14-i, 8, bit(i))
	}
	for i := range 8 {
		q.set(n-1-i, 8, bit(i))
	}
	for i := 8; i < 15; i++ {
		q.set(8, n-15+i, bit(i))
	}
	q.set(8, n-8, true) // the dark module
}

func (q *qrCode) data(cw []byte) {
	n := q.size
	i, total := 0, len(cw)*8
	for right := n - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for vert := range n {
			y := vert
			if upward {
				y = n - 1 - vert
			}
			for j := range 2 {
				x := right - j
				if q.fixed[y*n+x] {
					continue
				}
				q.dark[y*n+x] = i < total && cw[i>>3]>>(7-i&7)&1 == 1
				i++
			}
		}
	}
}

var qrMasks = [8]func(x, y int) bool{
	func(x, y int) bool { return (x+y)%2 == 0 },
	func(x, y int) bool { return y%2 == 0 },
	func(x, y int) bool { return x%3 == 0 },
	func(x, y int) bool { return (x+y)%3 == 0 },
	func(x, y int) bool { return (x/3+y/2)%2 == 0 },
	func(x, y int) bool { return x*y%2+x*y%3 == 0 },
	func(x, y int) bool { return (x*y%2+x*y%3)%2 == 0 },
	func(x, y int) bool { return ((x+y)%2+x*y%3)%2 == 0 },
}

func (q *qrCode) mask(k int) {
	for y := range q.size {
		for x := range q.size {
			if !q.fixed[y*q.size+x] && qrMasks[k](x, y) {
				q.dark[y*q.size+x] = !q.dark[y*q.size+x]
			}
		}
	}
}

// penalty scores a finished code by the standard's four rules.
func (q *qrCode) penalty() int {
	n := q.size
	score := 0
	line := make([]bool, n)
	defer clear(line)
	finder := [2][11]bool{
		{true, false, true, true, true, false, true, false, false, false, false},
		{false, false, false, false, true, false, true, true, true, false, true},
	}
	scoreLine := func() {
		run := 1
		for i := 1; i <= n; i++ {
			if i < n && line[i] == line[i-1] {
				run++
				continue
			}
			if run >= 5 {
				score += run - 2
			}
			run = 1
		}
		for i := 0; i+11 <= n; i++ {
			for _, f := range finder {
				match := true
				for j := range 11 {
					if line[i+j] != f[j] {
						match = false
						break
					}
				}
				if match {
					score += 40
				}
			}
		}
	}
	for i := range n {
		for x := range n {
			line[x] = q.at(x, i)
		}
		scoreLine()
		for y := range n {
			line[y] = q.at(i, y)
		}
		scoreLine()
	}
	darkCount := 0
	for y := range n {
		for x := range n {
			d := q.at(x, y)
			if d {
				darkCount++
			}
			if x < n-1 && y < n-1 && d == q.at(x+1, y) && d == q.at(x, y+1) && d == q.at(x+1, y+1) {
				score += 3
			}
		}
	}
	score += 10 * (abs(darkCount*20-n*n*10) / (n * n))
	return score
}

// encodeQR returns the QR code of text, or nil when text is longer than
// qrMaxBytes.
func encodeQR(text []byte) *qrCode {
	v := qrVersion(len(text))
	if v == 0 {
		return nil
	}
	cw := qrCodewords(text, v)
	defer clear(cw)
	var best *qrCode
	bestScore := 0
	for k := range 8 {
		q := newQRCode(v)
		q.functionPatterns(v)
		q.data(cw)
		q.mask(k)
		q.format(k)
		if s := q.penalty(); best == nil || s < bestScore {
			if best != nil {
				best.wipe()
			}
			best, bestScore = q, s
		} else {
			q.wipe()
		}
	}
	return best
}

// qrMaxBytes is the most bytes a code holds here (version 10-L).
const qrMaxBytes = 271

// quietZone is the light border around a code drawn in a terminal, in
// modules. The standard asks for four; phone cameras read two well, and
// the code then fits a 24-line terminal up to version 7.
const quietZone = 2

// writeTerminal draws q with half blocks, two rows of modules per line of
// text. With color it sets black and white explicitly, so the code reads
// the same on a dark terminal; without, dark modules are the glyphs, for
// dark text on a light background. Every line ends with a newline.
func (q *qrCode) writeTerminal(w io.Writer, color bool) error {
	n := q.size + 2*quietZone
	dark := func(x, y int) bool {
		x, y = x-quietZone, y-quietZone
		return x >= 0 && y >= 0 && x < q.size && y < q.size && q.at(x, y)
	}
	// The drawing spells out the link too: it is zeroed after writing.
	out := make([]byte, 0, (n/2+1)*(n*16+8))
	defer func() { clear(out) }()
	fg := map[bool]string{true: "30", false: "97"}  // black, bright white
	bg := map[bool]string{true: "40", false: "107"} // the same as background
	for y := 0; y < n; y += 2 {
		for x := range n {
			top, bottom := dark(x, y), y+1 < n && dark(x, y+1)
			if color {
				// The upper half block in the top module's color on the
				// bottom module's.
				out = append(out, "\x1b["...)
				out = append(out, fg[top]...)
				out = append(out, ';')
				out = append(out, bg[bottom]...)
				out = append(out, "m▀"...)
				continue
			}
			switch {
			case top && bottom:
				out = append(out, "█"...)
			case top:
				out = append(out, "▀"...)
			case bottom:
				out = append(out, "▄"...)
			default:
				out = append(out, ' ')
			}
		}
		if color {
			out = append(out, "\x1b[0m"...)
		}
		out = append(out, '\n')
	}
	_, err := w.Write(out)
	return err
}
