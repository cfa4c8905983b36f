package kasko

// The cgo export of the event hook's trampoline. A file with an //export
// may have only declarations in its preamble, so everything else of the
// hook is in kasko.go.

/*
#include <stdint.h>
#include <kasko.h>
*/
import "C"

// kaskoGoDeliverEvent is called by kasko_go_deliver (kasko.go's preamble),
// the kasko_event_hook of every Client, with the borrowed event and the
// hook's cgo.Handle.
//
//export kaskoGoDeliverEvent
func kaskoGoDeliverEvent(event *C.kasko_result, handle C.uintptr_t) {
	deliverEvent(event, uintptr(handle))
}
