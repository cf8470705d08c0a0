#include "textflag.h"
#include "funcdata.h"

// func Grow()
// A frame of 12 KiB (growstack.Size) makes the prologue call morestack
// when less is left; the body does nothing.
TEXT ·Grow(SB), 0, $12288-0
	NO_LOCAL_POINTERS
	RET
