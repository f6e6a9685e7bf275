/* nop: exits 0 at once, without libc (no start-up code at all), for the
 * exec-probe benchmark (bench.sh 8c): the probe command's own cost is then
 * next to nothing and what is measured is the runtime's. glibc's start-up
 * runs CPUID dozens of times, and in a VM each CPUID is a VM exit: a no-op
 * glibc program costs ~0.5 ms of CPU on the project's VM, this one 0.02 ms.
 * Built -nostdlib -static (Makefile). */
void _start(void);

void _start(void)
{
	__asm__ volatile("mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "memory");
	__builtin_unreachable();
}
