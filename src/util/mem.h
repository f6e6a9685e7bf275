/* Memory a long-lived process (the pod's supervisor) gives back once it is
 * set up. */
#ifndef PEAPOD_MEM_H
#define PEAPOD_MEM_H

/* Unmaps from this process every page of its read-only, private file
 * mappings (program and library code and constants) that holds nothing of
 * its own (no copy-on-write page: the relocated ones are left as they are).
 * The pages stay in the page cache, shared; what the process runs again is
 * mapped back by a minor fault. Start-up code that never runs again stops
 * counting as its memory. Returns the number of mappings released, or -1
 * (errno) when /proc/self/smaps cannot be read. */
int pp_mem_release_file_pages(void);

#endif
