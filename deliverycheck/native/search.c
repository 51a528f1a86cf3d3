/* The native breadth-first search, compiled after the generated model
 * (deliverycheck/native/emit.py), which defines DC_WIDTH, the action
 * functions, the predicates and the dispatch tables.
 *
 * It is the Python explorer's loop (deliverycheck/engines/explore.py) in C,
 * step for step: the same order of states, of instances tried per state,
 * of property checks, so both number the states alike and report the same
 * first violation of each property, with one worker thread or many.  The
 * Python side drives it in slices (dc_run returns after 1,024 states per
 * worker, at the end of each level and when the state limit is reached),
 * checks the time and memory limits and Ctrl-C between slices, and reads
 * the results through the dc_* getters.
 *
 * Storage: a state is packed into the bits its cells' ranges need (a cell
 * with range 0..hi takes bit_length(hi) bits).  The visited set is an
 * open-addressing table of 32-bit state indices; each state's 64-bit hash
 * is kept in an array by index, so the table grows without rehashing
 * states.  In exact mode the packed states are kept too (an arena by
 * index: the BFS frontier is a range of it) and a hash match is confirmed
 * by comparing states; in fingerprint mode only the hash is kept (a match
 * of hashes is taken as the same state, as TLC and SPIN's hash compaction
 * do), and the frontier's packed states are kept per level.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { ST_MORE = 0, ST_LEVEL = 1, ST_DONE = 2, ST_OVERFLOW = 3, ST_NOMEM = 4, ST_CHECK = 5, ST_TOOMANY = 6,
       ST_IOERR = 7 };

#define FLAG_CAPPED 1u   /* a capacity bound blocked some step here; bits 1.. are progress goals */
#define OPEN (-1)        /* found[k]: property k is checked and nothing was found yet */
#define UNASKED (-3)     /* found[k]: property k is not checked in this search */
#define DC_MAX_WORKERS 64
#define DC_SLICE 1024    /* states per worker between two returns to Python */

struct dc_search;

/* one worker's share of a slice (see "one slice of a level" below) */
typedef struct {
    struct dc_search *x;
    int64_t from, to;               /* the states it expands */
    int64_t rows;                   /* room in the per-state arrays */
    int32_t *succ_end, *blk_end;    /* per state: where its successors, its blocked instances end */
    uint8_t *info;                  /* per state: bit 0 enabled, bit 1 a capacity blocked a step */
    uint64_t *finals;               /* per terminal state: the final properties it breaks */
    uint8_t *packed;                /* successors: packed state, hash, instance, spends a fault */
    uint64_t *hash;
    uint16_t *j;
    uint8_t *spends;
    int64_t n, cap;
    uint16_t *blk;
    int64_t nblk, blkcap;
    int64_t ovf_at, ovf_inst, ovf_cell, ovf_value;   /* the first overflow: at state ovf_at (-1: none) */
    int nomem;
    int64_t cfrom, cto;             /* phase 3: the new states it checks, and what it found */
    int64_t found[DC_NPRED + 1];
    int64_t div_at, div_j, div_rc, div_rc0;   /* mutants: the first step unlike the model's (-1) */
} dc_part;

typedef struct dc_search {
    int fingerprint, edges, workers;
    int64_t max_states;
    int64_t count, cap;             /* states found; room in the per-state arrays */
    uint64_t *fps;                  /* per state: its 64-bit hash */
    int32_t *parent;
    uint16_t *via;
    uint8_t *flags;
    uint8_t *arena;                 /* exact mode: packed states by index */
    uint32_t *table;                /* index + 1; 0 is empty */
    uint64_t tsize;
    uint8_t *cur, *nxt;             /* fingerprint mode: packed states of this level and the next */
    int64_t nxt_len, nxt_cap;
    int64_t level_start, level_end, next;
    int64_t depth, transitions, terminal, truncated;
    int64_t fired[DC_NINST], made[DC_NINST], blocked[DC_NINST];
    int64_t found[DC_NPRED + 1];
    /* fault-free transitions, for progress properties: a temporary file (the graph can be
     * bigger than the visited set), one record per expanded state in index order:
     * [uint32 count][int32 target] * count; level L's records start at eat[L] */
    FILE *efile;
    int64_t *eat, *efirst;          /* per level: file offset of its records, its first state */
    int64_t nlevels;
    int32_t ebuf[DC_NINST + 1];     /* one state's targets, before they are written */
    int64_t ovf_inst, ovf_cell, ovf_value;
    int64_t div_at, div_j, div_rc, div_rc0;   /* mutants: the first step unlike the model's (-1) */
    dc_part parts[DC_MAX_WORKERS];
} dc_search;

#ifdef DC_MUTANTS
/* Mutation testing (deliverycheck/mutate/): the generated model holds every mutant behind
 * a switch (DC_M(k) in the model: dc_mut_run == k and not dc_orig).  dc_set_mutant picks
 * the one a search runs, the instances it changes (dc_touched: each of their steps is
 * also run as the model has it, to find the first state where the two differ) and those
 * whose dispatch key it makes unsound (dc_rekey: tried on every state, after the rest). */
static uint8_t dc_touched[DC_NINST];
static uint8_t dc_rekey[DC_NINST];
static int32_t dc_extra[DC_NINST];
static int32_t dc_nextra;

void dc_set_mutant(int m, int ntouched, const int32_t *touched, int nrekey, const int32_t *rekey) {
    dc_mut_run = m;
    memset(dc_touched, 0, sizeof dc_touched);
    memset(dc_rekey, 0, sizeof dc_rekey);
    for (int i = 0; i < ntouched; i++) dc_touched[touched[i]] = 1;
    dc_nextra = 0;
    for (int i = 0; i < nrekey; i++) { dc_rekey[rekey[i]] = 1; dc_extra[dc_nextra++] = rekey[i]; }
}

/* whether instance j's step on s, as the model has it, differs from the mutant's (rc, o) */
static int dc_differs(int j, const uint8_t *s, const uint8_t *sp, int rc, const uint8_t *o) {
    uint8_t o0[DC_PACKED + 1];
    o0[DC_PACKED] = 0;
    int cell = dc_ovf_cell;
    long value = dc_ovf_value;
    dc_orig = 1;
    int rc0 = dc_actions[j](s, sp, o0);
    dc_orig = 0;
    int same = rc == rc0 && (rc != DC_STEP || memcmp(o, o0, DC_PACKED) == 0)
               && (rc != DC_OVERFLOW || (cell == dc_ovf_cell && value == dc_ovf_value));
    dc_ovf_cell = cell;
    dc_ovf_value = value;
    return !same;
}

/* whether the model, on s, has exactly the mutant's successors (the packed states q->packed
 * [from, q->n)) and blocks a step exactly when the mutant does: a step may change its
 * instance (a parameter that only names what the state already says) and still be the
 * same edge of the state graph */
static int dc_same_successors(const dc_part *q, const uint8_t *s, const uint8_t *sp, int64_t from,
                              int capped) {
    uint8_t o0[DC_PACKED + 1];
    o0[DC_PACKED] = 0;
    int64_t n = q->n - from, found = 0;
    uint8_t *hit = calloc((size_t)(n ? n : 1), 1);
    if (!hit) return 0;
    int capped0 = 0, same = 1;
    dc_orig = 1;
    for (int j = 0; j < DC_NINST && same; j++) {
        int rc0 = dc_actions[j](s, sp, o0);
        if (rc0 == DC_FULL) capped0 = 1;
        if (rc0 == DC_OVERFLOW) same = 0;
        if (rc0 != DC_STEP) continue;
        int64_t e = 0;
        while (e < n && memcmp(q->packed + (size_t)(from + e) * DC_PACKED, o0, DC_PACKED) != 0) e++;
        if (e == n) same = 0;
        else if (!hit[e]) { hit[e] = 1; found++; }
    }
    dc_orig = 0;
    /* every successor of the mutant must be one of the model's (duplicates are one state) */
    for (int64_t e = 0; e < n && same; e++)
        if (!hit[e]) {
            int dup = 0;
            for (int64_t f = 0; f < n && !dup; f++)
                dup = hit[f] && memcmp(q->packed + (size_t)(from + f) * DC_PACKED,
                                       q->packed + (size_t)(from + e) * DC_PACKED, DC_PACKED) == 0;
            same = dup;
        }
    free(hit);
    return same && capped0 == capped;
}
#endif

static inline uint64_t dc_mix(uint64_t z) {
    /* a bijective 64-bit finaliser (Stafford's variant 13, as in splitmix64) */
    z ^= z >> 30; z *= 0xbf58476d1ce4e5b9ULL;
    z ^= z >> 27; z *= 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t dc_hash(const uint8_t *p) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)DC_PACKED;
    int i = 0;
    for (; i + 8 <= DC_PACKED; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = dc_mix(h ^ w);
    }
    if (i < DC_PACKED) {
        uint64_t w = 0;
        memcpy(&w, p + i, DC_PACKED - i);
        h = dc_mix(h ^ w ^ 0xff51afd7ed558ccdULL);
    }
    return h;
}

static void dc_pack(const uint8_t *s, uint8_t *p) {
    uint64_t acc = 0;
    int nb = 0, o = 0;
    for (int i = 0; i < DC_WIDTH; i++) {
        int b = dc_bits[i];
        if (!b) continue;
        acc |= (uint64_t)s[i] << nb;
        nb += b;
        while (nb >= 8) { p[o++] = (uint8_t)acc; acc >>= 8; nb -= 8; }
    }
    if (nb) p[o++] = (uint8_t)acc;
    while (o < DC_PACKED) p[o++] = 0;
}

static int dc_grow(void **p, int64_t n, size_t size) {
    void *q = realloc(*p, (size_t)n * size);
    if (!q) return 0;
    *p = q;
    return 1;
}

/* room for one more state in every per-state array */
static int dc_room(dc_search *x) {
    if (x->count < x->cap) return 1;
    int64_t n = x->cap ? x->cap * 2 : 1024;
    if (n > INT32_MAX) n = INT32_MAX;
    if (x->count >= n) return 0;
    if (!dc_grow((void **)&x->fps, n, 8) || !dc_grow((void **)&x->parent, n, 4)
        || !dc_grow((void **)&x->via, n, 2) || !dc_grow((void **)&x->flags, n, 1)
        || (!x->fingerprint && !dc_grow((void **)&x->arena, n, DC_PACKED)))
        return 0;
    x->cap = n;
    return 1;
}

static int dc_rehash(dc_search *x) {
    uint64_t n = x->tsize ? x->tsize * 2 : 4096;
    uint32_t *t = calloc(n, 4);
    if (!t) return 0;
    for (int64_t i = 0; i < x->count; i++) {
        uint64_t k = x->fps[i] & (n - 1);
        while (t[k]) k = (k + 1) & (n - 1);
        t[k] = (uint32_t)(i + 1);
    }
    free(x->table);
    x->table = t;
    x->tsize = n;
    return 1;
}

/* The index of the packed state p (hash h): an old one, or a new one (*fresh = 1). -1: out of memory. */
static int64_t dc_intern(dc_search *x, const uint8_t *p, uint64_t h, int *fresh) {
    if ((uint64_t)(x->count + 1) * 4 > x->tsize * 3 && !dc_rehash(x)) return -1;
    uint64_t mask = x->tsize - 1, k = h & mask;
    uint32_t e;
    while ((e = x->table[k])) {
        int64_t i = (int64_t)e - 1;
        if (x->fps[i] == h
            && (x->fingerprint || memcmp(x->arena + (size_t)i * DC_PACKED, p, DC_PACKED) == 0)) {
            *fresh = 0;
            return i;
        }
        k = (k + 1) & mask;
    }
    if (!dc_room(x)) return -1;
    int64_t i = x->count++;
    x->table[k] = (uint32_t)(i + 1);
    x->fps[i] = h;
    if (!x->fingerprint) memcpy(x->arena + (size_t)i * DC_PACKED, p, DC_PACKED);
    *fresh = 1;
    return i;
}

/* the file offset where a level's records start (called as the level begins) */
static int dc_level_mark(dc_search *x) {
    if (!x->edges) return ST_MORE;
    if (!dc_grow((void **)&x->eat, x->nlevels + 2, 8) || !dc_grow((void **)&x->efirst, x->nlevels + 2, 8))
        return ST_NOMEM;
    long at = ftell(x->efile);
    if (at < 0) return ST_IOERR;
    x->eat[x->nlevels] = at;
    x->efirst[x->nlevels] = x->level_start;
    x->nlevels++;
    return ST_MORE;
}

/* whether the step from s (unpacked) to o (packed) changed a fault budget */
static int dc_spends(const uint8_t *s, const uint8_t *o) {
    for (int k = 0; k < DC_NFAULT; k++)
        if (s[dc_fault_cells[k]] != dc_get(o, (unsigned)dc_fault_off[k], dc_fault_bits[k])) return 1;
    return 0;
}

static const uint8_t *dc_stored(const dc_search *x, int64_t idx) {
    return x->fingerprint ? x->cur + (size_t)(idx - x->level_start) * DC_PACKED
                          : x->arena + (size_t)idx * DC_PACKED;
}

/* ---- one slice of a level, in three phases ----------------------------------
 * 1. generate (parallel): each part runs every candidate instance on its states, in the
 *    dispatch order, and records the outcomes: successors (packed, hashed), blocked
 *    instances, whether the state is terminal and which final properties it breaks.
 * 2. merge (one thread): the outcomes, state by state in index order, enter the visited
 *    set; this numbers the new states exactly as a one-thread search does.
 * 3. check (parallel): the new states' properties; the first (lowest) index wins.
 * With one worker the same three phases run on one thread. */

static void *dc_generate(void *arg) {
    dc_part *q = arg;
    const dc_search *x = q->x;
    uint8_t s[DC_WIDTH], o[DC_PACKED + 1];
    o[DC_PACKED] = 0;   /* the spare byte dc_set may read */
    q->n = q->nblk = 0;
    q->ovf_at = -1;
    q->nomem = 0;
    q->div_at = -1;
#ifdef DC_MUTANTS
    const int shadow = x->div_at < 0;   /* the first difference is all that is reported */
    const int passes = DC_NKEYS + 2;   /* the instances the mutant re-keyed come last */
#else
    const int passes = DC_NKEYS + 1;
#endif
    for (int64_t idx = q->from; idx < q->to; idx++) {
        int64_t r = idx - q->from;
        int enabled = 0, capped = 0;
        int diverged = -1, div_rc = 0;   /* the first instance whose step differs from the model's */
        int64_t first = q->n;            /* where this state's successors start */
        const uint8_t *sp = dc_stored(x, idx);
        dc_unpack(sp, s);
        for (int pass = 0; pass < passes; pass++) {
            const int32_t *list;
            int32_t lo, hi;
            if (pass < DC_NKEYS) {
                const int32_t *at = dc_kstart + pass * 257 + s[dc_kcells[pass]];
                list = dc_klist; lo = at[0]; hi = at[1];
            } else if (pass == DC_NKEYS) {
                list = dc_unkeyed; lo = 0; hi = DC_NUNKEYED;
            } else {
#ifdef DC_MUTANTS
                list = dc_extra; lo = 0; hi = dc_nextra;
#else
                break;
#endif
            }
            for (int32_t w = lo; w < hi; w++) {
                int j = list[w];
#ifdef DC_MUTANTS
                if (pass < DC_NKEYS && dc_rekey[j]) continue;
                int rc = dc_actions[j](s, sp, o);
                if (shadow && dc_touched[j] && diverged < 0 && q->div_at < 0 && dc_differs(j, s, sp, rc, o)) {
                    diverged = j;
                    div_rc = rc;
                }
#else
                int rc = dc_actions[j](s, sp, o);
#endif
                if (rc == DC_OFF) continue;
                if (rc == DC_OVERFLOW) {
                    q->ovf_at = idx; q->ovf_inst = j; q->ovf_cell = dc_ovf_cell; q->ovf_value = dc_ovf_value;
                    q->to = idx + 1;
                    q->succ_end[r] = (int32_t)q->n; q->blk_end[r] = (int32_t)q->nblk;
                    return NULL;
                }
                if (rc == DC_FULL) {
                    capped = 1;
                    if (q->nblk == q->blkcap) {
                        int64_t n = q->blkcap ? q->blkcap * 2 : 1024;
                        if (!dc_grow((void **)&q->blk, n, 2)) { q->nomem = 1; q->to = idx; return NULL; }
                        q->blkcap = n;
                    }
                    q->blk[q->nblk++] = (uint16_t)j;
                    continue;
                }
                enabled = 1;
                if (q->n == q->cap) {
                    int64_t n = q->cap ? q->cap * 2 : 4096;
                    if (!dc_grow((void **)&q->packed, n, DC_PACKED) || !dc_grow((void **)&q->hash, n, 8)
                        || !dc_grow((void **)&q->j, n, 2) || !dc_grow((void **)&q->spends, n, 1)) {
                        q->nomem = 1; q->to = idx; return NULL;
                    }
                    q->cap = n;
                }
                memcpy(q->packed + (size_t)q->n * DC_PACKED, o, DC_PACKED);
                q->hash[q->n] = dc_hash(o);
                q->j[q->n] = (uint16_t)j;
                q->spends[q->n] = (uint8_t)(dc_may_spend[j] && dc_spends(s, o));
                q->n++;
            }
        }
#ifdef DC_MUTANTS
        if (diverged >= 0 && !dc_same_successors(q, s, sp, first, capped)) {
            q->div_at = idx; q->div_j = diverged; q->div_rc = div_rc; q->div_rc0 = -1;
        }
#else
        (void)diverged; (void)div_rc; (void)first;
#endif
        uint64_t finals = 0;
        if (!enabled && !capped)
            for (int k = 0; k < DC_NFIN; k++)
                if (x->found[DC_NINV + DC_NWIT + k] == OPEN && !dc_preds[DC_NINV + DC_NWIT + k](s))
                    finals |= 1ull << k;
        q->succ_end[r] = (int32_t)q->n;
        q->blk_end[r] = (int32_t)q->nblk;
        q->info[r] = (uint8_t)(enabled | (capped << 1));
        q->finals[r] = finals;
    }
    return NULL;
}

static void *dc_check(void *arg) {
    dc_part *q = arg;
    dc_search *x = q->x;
    uint8_t s[DC_WIDTH];
    for (int k = 0; k < DC_NINV + DC_NWIT; k++) q->found[k] = -1;
    for (int64_t i = q->cfrom; i < q->cto; i++) {
        dc_unpack(x->fingerprint ? x->nxt + (size_t)(i - x->level_end) * DC_PACKED
                                 : x->arena + (size_t)i * DC_PACKED, s);
        for (int k = 0; k < DC_NINV; k++)
            if (x->found[k] == OPEN && q->found[k] < 0 && !dc_preds[k](s)) q->found[k] = i;
        for (int k = DC_NINV; k < DC_NINV + DC_NWIT; k++)
            if (x->found[k] == OPEN && q->found[k] < 0 && dc_preds[k](s)) q->found[k] = i;
        uint8_t f = 0;
        for (int k = 0; k < DC_NPROG; k++)
            if (x->found[DC_NINV + DC_NWIT + DC_NFIN + k] == OPEN
                && dc_preds[DC_NINV + DC_NWIT + DC_NFIN + k](s))
                f |= (uint8_t)(2u << k);
        x->flags[i] = f;   /* each part writes only its own states' flags */
    }
    return NULL;
}

/* run fn on every part: parts 1.. on threads, part 0 here */
static void dc_on_parts(dc_search *x, int parts, void *(*fn)(void *)) {
    pthread_t tid[DC_MAX_WORKERS];
    int started[DC_MAX_WORKERS] = {0};
    for (int w = 1; w < parts; w++)
        started[w] = pthread_create(&tid[w], NULL, fn, &x->parts[w]) == 0;
    fn(&x->parts[0]);
    for (int w = 1; w < parts; w++) {
        if (started[w]) pthread_join(tid[w], NULL);
        else fn(&x->parts[w]);   /* no thread to be had: do it here */
    }
}

static int dc_append_frontier(dc_search *x, const uint8_t *p) {
    if (x->nxt_len == x->nxt_cap) {
        int64_t n = x->nxt_cap ? x->nxt_cap * 2 : 1024;
        if (!dc_grow((void **)&x->nxt, n, DC_PACKED)) return 0;
        x->nxt_cap = n;
    }
    memcpy(x->nxt + (size_t)x->nxt_len++ * DC_PACKED, p, DC_PACKED);
    return 1;
}

/* The visited set is far bigger than the caches: each lookup waits for the table slot,
 * then for the state it names.  The hashes of the successors to merge are known, so the
 * slot of the successor 16 places ahead is fetched early, and the hash and stored state
 * of the one 8 places ahead (whose slot has arrived by then).  Hints only: a rehash in
 * between costs nothing but a wasted fetch. */
static inline void dc_prefetch(const dc_search *x, const dc_part *q, int64_t e) {
    uint64_t mask = x->tsize - 1;
    if (e + 16 < q->n) __builtin_prefetch(&x->table[q->hash[e + 16] & mask]);
    if (e + 8 < q->n) {
        uint32_t v = x->table[q->hash[e + 8] & mask];
        if (v && (int64_t)v <= x->count) {
            __builtin_prefetch(&x->fps[v - 1]);
            if (!x->fingerprint) __builtin_prefetch(x->arena + (size_t)(v - 1) * DC_PACKED);
        }
    }
}

/* phase 2 for one part; returns ST_MORE, or why the search stops (then x->next is exact) */
static int dc_merge(dc_search *x, dc_part *q) {
    for (int64_t idx = q->from; idx < q->to; idx++) {
        int64_t r = idx - q->from;
        if (q->ovf_at == idx) {
            x->ovf_inst = q->ovf_inst; x->ovf_cell = q->ovf_cell; x->ovf_value = q->ovf_value;
            return ST_OVERFLOW;
        }
        int64_t s0 = r ? q->succ_end[r - 1] : 0, s1 = q->succ_end[r];
        int64_t b0 = r ? q->blk_end[r - 1] : 0, b1 = q->blk_end[r];
        int ne = 0;
        for (int64_t e = s0; e < s1; e++) {
            dc_prefetch(x, q, e);
            int j = q->j[e];
            const uint8_t *pk = q->packed + (size_t)e * DC_PACKED;
            x->fired[j]++;
            x->transitions++;
            int fresh;
            int64_t t = dc_intern(x, pk, q->hash[e], &fresh);
            if (t < 0) return x->count >= INT32_MAX - 1 ? ST_TOOMANY : ST_NOMEM;
            if (fresh) {
                x->parent[t] = (int32_t)idx;
                x->via[t] = (uint16_t)j;
                x->made[j]++;
                if (x->fingerprint && !dc_append_frontier(x, pk)) return ST_NOMEM;
            }
            if (x->edges && !q->spends[e]) x->ebuf[1 + ne++] = (int32_t)t;
        }
        for (int64_t b = b0; b < b1; b++) x->blocked[q->blk[b]]++;
        if (x->edges) {
            x->ebuf[0] = ne;
            if (fwrite(x->ebuf, 4, (size_t)ne + 1, x->efile) != (size_t)ne + 1) return ST_IOERR;
        }
        int enabled = q->info[r] & 1, capped = q->info[r] >> 1;
        if (capped) x->flags[idx] |= FLAG_CAPPED;
        if (!enabled) {
            if (capped) {
                x->truncated++;
            } else {
                x->terminal++;
                for (int k = 0; k < DC_NFIN; k++)
                    if (((q->finals[r] >> k) & 1) && x->found[DC_NINV + DC_NWIT + k] == OPEN)
                        x->found[DC_NINV + DC_NWIT + k] = idx;
            }
        }
        x->next = idx + 1;
        if (x->max_states && x->count >= x->max_states) return ST_CHECK;
    }
    return q->nomem ? ST_NOMEM : ST_MORE;
}

/* properties of the states found since `from` (phase 3, on `parts` workers) */
static void dc_check_new(dc_search *x, int64_t from, int parts) {
    int64_t n = x->count - from;
    if (n <= 0) return;
    if (parts > n) parts = (int)n;
    for (int w = 0; w < parts; w++) {
        x->parts[w].cfrom = from + n * w / parts;
        x->parts[w].cto = from + n * (w + 1) / parts;
    }
    dc_on_parts(x, parts, dc_check);
    for (int k = 0; k < DC_NINV + DC_NWIT; k++)
        for (int w = 0; w < parts; w++) {
            int64_t f = x->parts[w].found[k];
            if (f >= 0 && (x->found[k] == OPEN || f < x->found[k])) x->found[k] = f;
        }
}

/* room in a part's per-state arrays for `n` states */
static int dc_part_room(dc_part *q, int64_t n) {
    if (n <= q->rows) return 1;
    if (!dc_grow((void **)&q->succ_end, n, 4) || !dc_grow((void **)&q->blk_end, n, 4)
        || !dc_grow((void **)&q->info, n, 1) || !dc_grow((void **)&q->finals, n, 8))
        return 0;
    q->rows = n;
    return 1;
}

/* expand the states [x->next, to) of the current level */
static int dc_slice(dc_search *x, int64_t to) {
    int64_t from = x->next, n = to - from;
    int parts = x->workers < n ? x->workers : (int)n;
    for (int w = 0; w < parts; w++) {
        dc_part *q = &x->parts[w];
        q->x = x;
        q->from = from + n * w / parts;
        q->to = from + n * (w + 1) / parts;
        if (!dc_part_room(q, q->to - q->from)) return ST_NOMEM;
    }
    dc_on_parts(x, parts, dc_generate);
    for (int w = 0; w < parts && x->div_at < 0; w++) {   /* parts hold ascending states */
        dc_part *q = &x->parts[w];
        if (q->div_at >= 0) { x->div_at = q->div_at; x->div_j = q->div_j; x->div_rc = q->div_rc; x->div_rc0 = q->div_rc0; }
    }
    int64_t before = x->count, st = ST_MORE;
    for (int w = 0; w < parts && st == ST_MORE; w++) st = dc_merge(x, &x->parts[w]);
    if (st != ST_OVERFLOW) dc_check_new(x, before, x->workers);
    if (st == ST_MORE && x->next < to) st = ST_NOMEM;   /* a part ran out of memory generating */
    return (int)st;
}

/* ---- the interface the Python side calls (ctypes) ---------------------- */

void dc_free(dc_search *x) {
    if (!x) return;
    free(x->fps); free(x->parent); free(x->via); free(x->flags); free(x->arena);
    free(x->table); free(x->cur); free(x->nxt); free(x->eat); free(x->efirst);
    if (x->efile) fclose(x->efile);
    for (int w = 0; w < DC_MAX_WORKERS; w++) {
        dc_part *q = &x->parts[w];
        free(q->succ_end); free(q->blk_end); free(q->info); free(q->finals);
        free(q->packed); free(q->hash); free(q->j); free(q->spends); free(q->blk);
    }
    free(x);
}

/* A search holding the initial state, expanding with `workers` threads, checking the
 * properties whose slot in `asked` is 1.  NULL when out of memory. */
dc_search *dc_new(int fingerprint, int edges, int64_t max_states, int workers, const uint8_t *asked) {
#ifdef M_MMAP_THRESHOLD
    /* big arrays come and go (a level's frontier, a rehashed table): keep them mapped, so
     * that freeing one gives its memory back instead of leaving it in the heap (glibc
     * otherwise raises the threshold after the first such free) */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    dc_search *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->fingerprint = fingerprint;
    x->edges = edges;
    x->max_states = max_states;
    x->workers = workers < 1 ? 1 : workers > DC_MAX_WORKERS ? DC_MAX_WORKERS : workers;
    for (int k = 0; k < DC_NPRED; k++) x->found[k] = asked[k] ? OPEN : UNASKED;
    x->found[DC_NPRED] = UNASKED;
    x->div_at = -1;
    for (int w = 0; w < DC_MAX_WORKERS; w++) x->parts[w].x = x;
    uint8_t p[DC_PACKED + 1];
    dc_pack(dc_init, p);
    int fresh;
    if (dc_intern(x, p, dc_hash(p), &fresh) != 0 || (fingerprint && !dc_append_frontier(x, p))) {
        dc_free(x);
        return NULL;
    }
    x->parent[0] = 0;
    x->via[0] = 0xFFFF;
    dc_check_new(x, 0, 1);
    x->level_start = 0;
    x->level_end = 1;
    x->next = 0;
    if (fingerprint) {   /* the first level is the initial state */
        x->cur = x->nxt;
        x->nxt = NULL;
        x->nxt_len = x->nxt_cap = 0;
    }
    if (edges && (!(x->efile = tmpfile()) || dc_level_mark(x) != ST_MORE)) { dc_free(x); return NULL; }
    return x;
}

/* Expand one slice of states, or begin the next level; say what happened (ST_*). */
int dc_run(dc_search *x) {
    if (x->next == x->level_end) {
        if (x->count == x->level_end) return ST_DONE;
        x->level_start = x->level_end;
        x->level_end = x->count;
        x->depth++;
        if (x->fingerprint) {
            free(x->cur);
            x->cur = x->nxt;
            x->nxt = NULL;
            x->nxt_len = x->nxt_cap = 0;
        }
        int st = dc_level_mark(x);
        return st == ST_MORE ? ST_LEVEL : st;
    }
    int64_t to = x->next + (int64_t)DC_SLICE * x->workers;
    if (to > x->level_end) to = x->level_end;
    int st = dc_slice(x, to);
    return st == ST_MORE ? ST_CHECK : st;
}

/* Counts: states, depth, transitions, terminal, truncated, states in the next level,
 * overflow (instance, cell, value); search.py's Stats names them. */
void dc_stats(const dc_search *x, int64_t *out) {
    out[0] = x->count; out[1] = x->depth; out[2] = x->transitions; out[3] = x->terminal;
    out[4] = x->truncated; out[5] = x->count - x->level_end;
    out[6] = x->ovf_inst; out[7] = x->ovf_cell; out[8] = x->ovf_value;
}

void dc_counters(const dc_search *x, int64_t *fired, int64_t *made, int64_t *blocked, int64_t *found) {
    memcpy(fired, x->fired, sizeof x->fired);
    memcpy(made, x->made, sizeof x->made);
    memcpy(blocked, x->blocked, sizeof x->blocked);
    memcpy(found, x->found, sizeof(int64_t) * DC_NPRED);
}

/* The first state (by index) where a step of the mutant differs from the model's: state,
 * instance, the mutant's outcome and the model's (DC_*); -1 when none was seen. */
void dc_divergence(const dc_search *x, int64_t *out) {
    out[0] = x->div_at; out[1] = x->div_j; out[2] = x->div_rc; out[3] = x->div_rc0;
}

const int32_t *dc_parents(const dc_search *x) { return x->parent; }
const uint16_t *dc_vias(const dc_search *x) { return x->via; }

/* After a complete search: drop what only the search needed. */
void dc_finish(dc_search *x) {
    free(x->table); x->table = NULL; x->tsize = 0;
    free(x->fps); x->fps = NULL;
    free(x->arena); x->arena = NULL;
    free(x->cur); x->cur = NULL;
    free(x->nxt); x->nxt = NULL;
    x->cap = 0;   /* nothing may be added any more */
}

/* The first state (in index order) from which no recorded transition path reaches a state
 * with flag bit `goal` (or, with `capped`, a state where a capacity bound blocked a step);
 * -1 if there is none, -2 when out of memory, -3 when the transition file cannot be read.
 * Needs a complete search with edges.
 *
 * "Can reach a goal" is the least fixpoint of ok(u) = goal(u) or ok(v) for an edge u -> v,
 * computed by passes over the file until nothing changes.  Each pass takes the levels
 * from the last to the first and a level's states from the last to the first, so an edge
 * to a later state carries its answer in the same pass; only edges back to an earlier
 * state need another pass. */
int64_t dc_first_stuck(dc_search *x, int goal, int capped) {
    int64_t n = x->count;
    if (fflush(x->efile) != 0) return -3;
    long end = ftell(x->efile);
    if (end < 0) return -3;
    uint8_t *ok = malloc((size_t)n);
    if (!ok) return -2;
    uint8_t mask = (uint8_t)((2u << goal) | (capped ? FLAG_CAPPED : 0));
    for (int64_t v = 0; v < n; v++) ok[v] = (x->flags[v] & mask) != 0;
    int32_t *block = NULL;
    int64_t *at = NULL;
    int64_t bad = -1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int64_t L = x->nlevels - 1; L >= 0; L--) {
            int64_t from = x->efirst[L], to = L + 1 < x->nlevels ? x->efirst[L + 1] : n;
            long lo = (long)x->eat[L], hi = L + 1 < x->nlevels ? (long)x->eat[L + 1] : end;
            size_t words = (size_t)(hi - lo) / 4;
            int32_t *b = realloc(block, words ? words * 4 : 4);
            int64_t *a = realloc(at, (size_t)(to - from + 1) * 8);
            if (b) block = b;
            if (a) at = a;
            if (!b || !a) { bad = -2; goto out; }
            if (fseek(x->efile, lo, SEEK_SET) != 0 || fread(block, 4, words, x->efile) != words) {
                bad = -3;
                goto out;
            }
            size_t w = 0;
            for (int64_t u = from; u < to; u++) { at[u - from] = (int64_t)w; w += 1 + (size_t)block[w]; }
            for (int64_t u = to - 1; u >= from; u--) {
                if (ok[u]) continue;
                const int32_t *rec = block + at[u - from];
                for (int32_t e = 1; e <= rec[0]; e++)
                    if (ok[rec[e]]) { ok[u] = 1; changed = 1; break; }
            }
        }
    }
    for (int64_t v = 0; v < n; v++) if (!ok[v]) { bad = v; break; }
out:
    fseek(x->efile, 0, SEEK_END);
    free(block);
    free(at);
    free(ok);
    return bad;
}
