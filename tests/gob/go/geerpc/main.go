// geerpc: the wire of the "7 days in Go" GeeRPC, written from the series: a JSON
// Option, then on one gob stream per direction a Header and a body per message. Its
// server reads the Option as the series does, with a json.Decoder on the connection.
//
//	geerpc server                 serves Arith.Add; prints "listening HOST:PORT"
//	geerpc client ADDR N          calls Arith.Add{i, i*i} for i < N, prints each sum
//	geerpc get ADDR NAME          calls Scores.Get(NAME), prints the int reply
package main

import (
	"bufio"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

const MagicNumber = 0x3bef5c

type Option struct {
	MagicNumber    int
	CodecType      string
	ConnectTimeout time.Duration
	HandleTimeout  time.Duration
}

type Header struct {
	ServiceMethod string
	Seq           uint64
	Error         string
}

type Args struct{ Num1, Num2 int }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "geerpc:", err)
	os.Exit(1)
}

func serve(conn net.Conn) {
	defer conn.Close()
	var opt Option
	if err := json.NewDecoder(conn).Decode(&opt); err != nil || opt.MagicNumber != MagicNumber {
		return
	}
	dec := gob.NewDecoder(conn)
	buf := bufio.NewWriter(conn)
	enc := gob.NewEncoder(buf)
	for {
		var h Header
		if err := dec.Decode(&h); err != nil {
			return
		}
		var args Args
		if err := dec.Decode(&args); err != nil {
			return
		}
		var body interface{} = args.Num1 + args.Num2
		if h.ServiceMethod != "Arith.Add" {
			h.Error = "rpc server: can't find service " + h.ServiceMethod
			body = struct{}{}
		}
		if enc.Encode(&h) != nil || enc.Encode(body) != nil || buf.Flush() != nil {
			return
		}
	}
}

func dial(addr string) (net.Conn, *gob.Decoder, *gob.Encoder, *bufio.Writer) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	if err := json.NewEncoder(conn).Encode(&Option{MagicNumber, "application/gob", 10 * time.Second, 0}); err != nil {
		fail(err)
	}
	buf := bufio.NewWriter(conn)
	return conn, gob.NewDecoder(conn), gob.NewEncoder(buf), buf
}

func call(dec *gob.Decoder, enc *gob.Encoder, buf *bufio.Writer, seq uint64, method string, args interface{}, reply interface{}) {
	if err := enc.Encode(&Header{ServiceMethod: method, Seq: seq}); err != nil {
		fail(err)
	}
	if err := enc.Encode(args); err != nil {
		fail(err)
	}
	if err := buf.Flush(); err != nil {
		fail(err)
	}
	var h Header
	if err := dec.Decode(&h); err != nil {
		fail(err)
	}
	if h.Seq != seq {
		fail(fmt.Errorf("reply %d to call %d", h.Seq, seq))
	}
	if h.Error != "" {
		var ignored interface{}
		_ = dec.Decode(&ignored)
		fail(fmt.Errorf("remote: %s", h.Error))
	}
	if err := dec.Decode(reply); err != nil {
		fail(err)
	}
}

func main() {
	switch os.Args[1] {
	case "server":
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		fmt.Println("listening", listener.Addr())
		for {
			conn, err := listener.Accept()
			if err != nil {
				if err == io.EOF {
					return
				}
				fail(err)
			}
			go serve(conn)
		}
	case "client":
		n, _ := strconv.Atoi(os.Args[3])
		conn, dec, enc, buf := dial(os.Args[2])
		defer conn.Close()
		for i := 0; i < n; i++ {
			var sum int
			call(dec, enc, buf, uint64(i+1), "Arith.Add", &Args{i, i * i}, &sum)
			fmt.Println(sum)
		}
	case "get":
		conn, dec, enc, buf := dial(os.Args[2])
		defer conn.Close()
		var score int
		call(dec, enc, buf, 1, "Scores.Get", os.Args[3], &score)
		fmt.Println(score)
	}
}
