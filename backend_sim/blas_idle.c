/* The BLAS library's worker threads.  OpenBLAS (pthread builds) starts them
 * when it loads, and each then polls for work with sched_yield for about
 * 2^28 cycles before it sleeps: a core that a short process (graft opt
 * takes milliseconds) pays for nothing.  sim_blas_idle stops them; OpenBLAS
 * starts them again at its next multi-threaded call.  Other BLAS libraries
 * lack the entry point, and then nothing happens. */
#include "sim.h"

#if defined(__GNUC__) && defined(__ELF__)
#define HAVE_WEAK 1
/* OpenBLAS's, exported by its pthread builds (a weak reference: NULL
 * elsewhere). */
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

void sim_blas_idle(void)
{
#ifdef HAVE_WEAK
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
#endif
}
