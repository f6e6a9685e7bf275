/* How a pull's events (pull/pull.h) are shown: on a terminal, one line per
 * layer redrawn in place (bytes, total, speed), as podman and docker show
 * them; elsewhere one line per event, without the byte counts' updates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pull_display.h"
#include "util/clock.h"
#include "util/cleanup.h"

#define DISPLAY_DIGEST_CHARS 12	  /* of a layer's hex, as podman shows it */
#define DISPLAY_REDRAW_MIN_MS 100 /* byte counts redrawn at most this often */
#define DISPLAY_BAR_WIDTH 20
#define DISPLAY_UNIT 1000.0
#define DISPLAY_MS_PER_S 1000.0

enum layer_state { LAYER_DOWNLOADING, LAYER_DONE, LAYER_SKIPPED };

struct pull_display_layer {
	char *digest;
	int64_t size, done;
	int64_t started_ms, ended_ms;
	enum layer_state state;
};

void pull_display_init(struct pull_display *d, FILE *out, bool terminal)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	d->terminal = terminal;
}

void pull_display_free(struct pull_display *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->layers[i].digest);
	free(d->layers);
	d->layers = NULL;
	d->n = 0;
}

static bool is_layer_event(enum pp_pull_event_kind k)
{
	return k == PP_PULL_EV_BLOB || k == PP_PULL_EV_BLOB_SKIPPED || k == PP_PULL_EV_PROGRESS ||
	       k == PP_PULL_EV_BLOB_RESTART || k == PP_PULL_EV_BLOB_DONE;
}

/* The line of the layer an event is about; NULL for the other events. */
static struct pull_display_layer *layer_of(struct pull_display *d, const struct pp_pull_event *ev)
{
	if (!is_layer_event(ev->kind) || ev->digest == NULL)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->layers[i].digest, ev->digest) == 0)
			return &d->layers[i];
	d->layers = xrealloc(d->layers, (d->n + 1) * sizeof(*d->layers));
	struct pull_display_layer *l = &d->layers[d->n++];
	*l = (struct pull_display_layer){
	    .digest = xstrdup(ev->digest), .size = ev->size, .started_ms = pp_monotonic_ms()};
	return l;
}

/* "12.3MB", as podman counts (powers of 1000). */
static void human(char *buf, size_t len, double bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;
	while (bytes >= DISPLAY_UNIT && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= DISPLAY_UNIT;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", bytes, units[u]);
}

/* Bytes a second since the layer's download began. */
static double speed(const struct pull_display_layer *l, int64_t now_ms)
{
	int64_t end = l->state == LAYER_DOWNLOADING ? now_ms : l->ended_ms;
	int64_t ms = end - l->started_ms;
	return ms > 0 ? (double)l->done * DISPLAY_MS_PER_S / (double)ms : 0;
}

static const char *short_hex(const char *digest)
{
	const char *colon = strchr(digest, ':');
	return colon ? colon + 1 : digest;
}

static void draw_layer(struct pull_display *d, const struct pull_display_layer *l, int64_t now)
{
	char done[32], size[32], rate[32];
	human(done, sizeof(done), (double)l->done);
	human(size, sizeof(size), (double)l->size);
	human(rate, sizeof(rate), speed(l, now));
	fprintf(d->out, "\r\033[KCopying blob %.*s ", DISPLAY_DIGEST_CHARS, short_hex(l->digest));
	if (l->state == LAYER_SKIPPED) {
		fputs("skipped: already exists\n", d->out);
		return;
	}
	int fill = l->size > 0 ? (int)(l->done * DISPLAY_BAR_WIDTH / l->size) : 0;
	fill = fill > DISPLAY_BAR_WIDTH ? DISPLAY_BAR_WIDTH : fill;
	fprintf(d->out, "[%.*s%.*s] %s / %s %s/s%s\n", fill,
		"====================", DISPLAY_BAR_WIDTH - fill, "                    ", done,
		size, rate, l->state == LAYER_DONE ? " done" : "");
}

/* Redraws the layers' lines over the last drawing. */
static void redraw(struct pull_display *d)
{
	int64_t now = pp_monotonic_ms();
	if (d->drawn > 0)
		fprintf(d->out, "\033[%zuA", d->drawn);
	for (size_t i = 0; i < d->n; i++)
		draw_layer(d, &d->layers[i], now);
	d->drawn = d->n;
	d->last_draw_ms = now;
	fflush(d->out);
}

/* A line that stays (a warning, the end): above the layers' lines. */
static void terminal_line(struct pull_display *d, const char *line)
{
	if (d->drawn > 0)
		fprintf(d->out, "\033[%zuA", d->drawn);
	fprintf(d->out, "\r\033[K%s\n", line);
	d->drawn = 0;
	redraw(d);
}

static void on_terminal(struct pull_display *d, const struct pp_pull_event *ev)
{
	struct pull_display_layer *l = layer_of(d, ev);
	switch (ev->kind) {
	case PP_PULL_EV_PROGRESS:
		l->done = ev->done;
		if (pp_monotonic_ms() - d->last_draw_ms < DISPLAY_REDRAW_MIN_MS)
			return;
		break;
	case PP_PULL_EV_BLOB_SKIPPED:
		l->state = LAYER_SKIPPED;
		break;
	case PP_PULL_EV_BLOB_DONE:
		l->done = ev->done;
		l->state = LAYER_DONE;
		l->ended_ms = pp_monotonic_ms();
		break;
	case PP_PULL_EV_BLOB_RESTART:
		l->done = 0;
		l->started_ms = pp_monotonic_ms();
		break;
	case PP_PULL_EV_WARNING: {
		cleanup_free char *line =
		    ev->digest ? xasprintf("peapod: warning: layer %s: %s", ev->digest, ev->text)
			       : xasprintf("peapod: warning: %s", ev->text);
		terminal_line(d, line);
		return;
	}
	case PP_PULL_EV_WRITING: {
		cleanup_free char *line = xasprintf("Writing image %s", ev->digest);
		redraw(d);
		d->drawn = 0;
		fprintf(d->out, "%s\n", line);
		return;
	}
	case PP_PULL_EV_START:
		fprintf(d->out, "Pulling %s\n", ev->text);
		return;
	case PP_PULL_EV_BLOB:
	default:
		break;
	}
	redraw(d);
}

static void on_log(struct pull_display *d, const struct pp_pull_event *ev)
{
	struct pull_display_layer *l = layer_of(d, ev);
	char rate[32];
	switch (ev->kind) {
	case PP_PULL_EV_START:
		fprintf(d->out, "Pulling %s\n", ev->text);
		break;
	case PP_PULL_EV_BLOB:
		fprintf(d->out, "Copying blob %s (%lld bytes)\n", ev->digest, (long long)ev->size);
		break;
	case PP_PULL_EV_BLOB_SKIPPED:
		fprintf(d->out, "Copying blob %s skipped: already exists\n", ev->digest);
		break;
	case PP_PULL_EV_BLOB_RESTART:
		l->started_ms = pp_monotonic_ms();
		fprintf(d->out, "Copying blob %s again: %s\n", ev->digest, ev->text);
		break;
	case PP_PULL_EV_BLOB_DONE:
		l->done = ev->done;
		l->state = LAYER_DONE;
		l->ended_ms = pp_monotonic_ms();
		human(rate, sizeof(rate), speed(l, l->ended_ms));
		fprintf(d->out, "Copied blob %s (%lld bytes, %s/s)\n", ev->digest,
			(long long)ev->done, rate);
		break;
	case PP_PULL_EV_WARNING:
		if (ev->digest)
			fprintf(d->out, "peapod: warning: layer %s: %s\n", ev->digest, ev->text);
		else
			fprintf(d->out, "peapod: warning: %s\n", ev->text);
		break;
	case PP_PULL_EV_WRITING:
		fprintf(d->out, "Writing image %s\n", ev->digest);
		break;
	case PP_PULL_EV_PROGRESS: /* a log wants the outcome, not every count */
	default:
		break;
	}
}

void pull_display_event(void *ctx, const struct pp_pull_event *ev)
{
	struct pull_display *d = ctx;
	if (d->terminal)
		on_terminal(d, ev);
	else
		on_log(d, ev);
}
