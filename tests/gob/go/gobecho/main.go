// gobecho: reads a gob stream of Sample values from stdin with Go's own encoding/gob,
// and writes them back to stdout, re-encoded by one gob.Encoder. The tests push
// values written by geetrio.gob through it and decode what Go wrote.
package main

import (
	"encoding/gob"
	"io"
	"os"
	"time"
)

type Point struct {
	X, Y int
}

type Sample struct {
	Flag    bool
	Count   int64
	Small   int8
	Big     uint64
	Float   float64
	Single  float32
	Complex complex128
	Text    string
	Blob    []byte
	Ints    []int
	Words   []string
	Triple  [3]int
	Scores  map[string]int
	Where   Point
	Maybe   *Point
	Points  []Point
	When    time.Time
	Any     interface{}
	Nested  map[string][]Point
}

func main() {
	gob.Register(Point{})
	decoder := gob.NewDecoder(os.Stdin)
	encoder := gob.NewEncoder(os.Stdout)
	for {
		var sample Sample
		if err := decoder.Decode(&sample); err != nil {
			if err == io.EOF {
				return
			}
			os.Stderr.WriteString("gobecho: " + err.Error() + "\n")
			os.Exit(1)
		}
		if err := encoder.Encode(sample); err != nil {
			os.Stderr.WriteString("gobecho: " + err.Error() + "\n")
			os.Exit(1)
		}
	}
}
