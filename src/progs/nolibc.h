/* src/progs: owns the small libc-free programs (peapod-infra, peapod-exec)
 * that processes of a pod run for a long time. Must not include anything of
 * src/ (no libc, no library: each program is one file and this header), nor
 * allocate.
 *
 * What the libc-free programs of src/progs share: the entry point and raw
 * system calls (x86-64 only; the Makefile builds them there only). Types
 * and constants come from the C library's headers, no function from it. */
#ifndef PEAPOD_NOLIBC_H
#define PEAPOD_NOLIBC_H

#include <sys/syscall.h>

#if !defined(__x86_64__)
#error "src/progs is built for x86-64 only (see the Makefile)"
#endif

/* The program's main, called with the stack as the kernel left it
 * (argc, argv..., NULL, envp..., NULL). */
void prog_main(long *sp) __attribute__((noreturn, used));

/* The kernel's entry: rsp points at argc; aligned for the call as the ABI
 * wants. */
#define PROG_ENTRY                                                                                 \
	__asm__(".text\n"                                                                          \
		".global _start\n"                                                                 \
		"_start:\n"                                                                        \
		"	xor %ebp, %ebp\n"                                                                \
		"	mov %rsp, %rdi\n"                                                                \
		"	and $-16, %rsp\n"                                                                \
		"	call prog_main\n"                                                                \
		"	hlt\n")

/* syscall with up to six arguments (the fourth in r10, then r8, r9);
 * clobbers rcx and r11. Returns -errno on failure, as the kernel does. */
static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys4(long n, long a, long b, long c, long d)
{
	return sys6(n, a, b, c, d, 0, 0);
}

/* The kernel's signal set: one bit per signal, 8 bytes on x86-64. */
#define SIG_BIT(sig) (1UL << ((sig)-1))
#define KERNEL_SIGSET_SIZE 8

#endif
