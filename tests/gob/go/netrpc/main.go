// netrpc: Go's standard net/rpc (gob) and net/rpc/jsonrpc, a server and a client of
// each, standard library only.
//
//	netrpc server            serves Arith (Add, Div); prints "listening HOST:PORT"
//	netrpc client ADDR N     calls Arith.Add{i, i*i} for i < N, prints each sum; then
//	                         Arith.Div{1, 0} and prints the error
//	netrpc jsonserver        the same over net/rpc/jsonrpc
//	netrpc jsonclient ADDR N
//	netrpc bench ADDR SECONDS  calls Arith.Add one at a time for SECONDS; prints calls/s
package main

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"strconv"
	"time"
)

type Args struct{ Num1, Num2 int }

type Arith int

func (t *Arith) Add(args *Args, reply *int) error {
	*reply = args.Num1 + args.Num2
	return nil
}

func (t *Arith) Div(args *Args, reply *int) error {
	if args.Num2 == 0 {
		return errors.New("divide by zero")
	}
	*reply = args.Num1 / args.Num2
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "netrpc:", err)
	os.Exit(1)
}

func main() {
	switch os.Args[1] {
	case "server", "jsonserver":
		if err := rpc.Register(new(Arith)); err != nil {
			fail(err)
		}
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		fmt.Println("listening", listener.Addr())
		if os.Args[1] == "server" {
			rpc.Accept(listener)
			return
		}
		for {
			conn, err := listener.Accept()
			if err != nil {
				fail(err)
			}
			go jsonrpc.ServeConn(conn)
		}
	case "bench":
		seconds, _ := strconv.ParseFloat(os.Args[3], 64)
		client, err := rpc.Dial("tcp", os.Args[2])
		if err != nil {
			fail(err)
		}
		defer client.Close()
		calls := 0
		began := time.Now()
		deadline := began.Add(time.Duration(seconds * float64(time.Second)))
		for time.Now().Before(deadline) {
			var sum int
			if err := client.Call("Arith.Add", &Args{calls, 1}, &sum); err != nil {
				fail(err)
			}
			calls++
		}
		fmt.Printf("%.0f\n", float64(calls)/time.Since(began).Seconds())
	case "client", "jsonclient":
		n, _ := strconv.Atoi(os.Args[3])
		dial := rpc.Dial
		if os.Args[1] == "jsonclient" {
			dial = jsonrpc.Dial
		}
		client, err := dial("tcp", os.Args[2])
		if err != nil {
			fail(err)
		}
		defer client.Close()
		for i := 0; i < n; i++ {
			var sum int
			if err := client.Call("Arith.Add", &Args{i, i * i}, &sum); err != nil {
				fail(err)
			}
			fmt.Println(sum)
		}
		var quotient int
		err = client.Call("Arith.Div", &Args{1, 0}, &quotient)
		fmt.Println("error:", err)
	}
}
