# hello-world, in the browser (Pyodide): what Go's main.go did with syscall/js.
import js

js.alert("Hello World!")
