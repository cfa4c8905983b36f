package kasko

// The cgo export of the asynchronous calls' completion (async.go). A file
// with an //export may have only declarations in its preamble, so
// everything else is in async.go.

/*
#include <stdint.h>
#include <kasko.h>
*/
import "C"

// kaskoGoComplete is called by kasko_go_complete (async.go's preamble), the
// kasko_callback of every asynchronous call, with the call's result (owned
// from here on) and the call's cgo.Handle.
//
//export kaskoGoComplete
func kaskoGoComplete(result *C.kasko_result, handle C.uintptr_t) {
	completeCall(result, uintptr(handle))
}
