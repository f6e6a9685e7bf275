/* Showing a pull's progress (pull/pull.h's events) on the command line:
 * `image pull` uses it, and any verb that pulls may. */
#ifndef PEAPOD_CLI_PULL_DISPLAY_H
#define PEAPOD_CLI_PULL_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pull/pull.h"

struct pull_display_layer;

struct pull_display {
	FILE *out;
	/* a terminal: each layer's line redrawn in place (bytes, total,
	 * speed); else one line per event, the byte counts left out */
	bool terminal;
	struct pull_display_layer *layers;
	size_t n;
	size_t drawn; /* lines of the last drawing, under the cursor's line */
	int64_t last_draw_ms;
};

void pull_display_init(struct pull_display *d, FILE *out, bool terminal);
void pull_display_free(struct pull_display *d);

/* A pp_pull_options.progress callback; ctx is the struct pull_display. */
void pull_display_event(void *ctx, const struct pp_pull_event *ev);

#endif
