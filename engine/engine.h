/* graft engine: the public API of the engine/ layer — rule sets loaded from
 * YAML, the matcher, the rewriter and the fixpoint driver.
 *
 * Typical use (what `graft opt` does):
 *   eng_ruleset *rs = eng_ruleset_new();
 *   eng_load_path(rs, "rules.d", &diags);          // files or directories
 *   eng_options o = eng_default_options();
 *   eng_report rep;
 *   eng_apply(rs, g, &o, &rep, &diags);             // rewrite g to a fixpoint
 *   ...
 *   eng_report_free(&rep); eng_ruleset_free(rs);
 */
#ifndef GRAFT_ENGINE_H
#define GRAFT_ENGINE_H

#include "ir.h"

typedef struct eng_ruleset eng_ruleset;
typedef struct eng_rule eng_rule; /* layout in engine_internal.h */

/* ---------------------------------------------------------------- rule sets (rules_load.c) */
eng_ruleset *eng_ruleset_new(void);
void eng_ruleset_free(eng_ruleset *rs);
/* Loads one YAML file, or every *.yaml / *.yml file of a directory (sorted by
 * name, not recursive).  Every error of every file is reported as
 * file:line:col; returns false when any error was found (the rules of files
 * without errors stay loaded). */
bool eng_load_path(eng_ruleset *rs, const char *path, ir_diags *d);
/* Loads rules from YAML text (file names the source in diagnostics). */
bool eng_load_text(eng_ruleset *rs, const char *text, size_t n, const char *file, ir_diags *d);
size_t eng_nrules(const eng_ruleset *rs);
const eng_rule *eng_rule_at(const eng_ruleset *rs, size_t i);
const eng_rule *eng_rule_find(const eng_ruleset *rs, const char *name);
const char *eng_rule_name(const eng_rule *r);
const char *eng_rule_doc(const eng_rule *r);
/* Where the rule is defined ("file:line:col"). */
const char *eng_rule_file(const eng_rule *r);
int eng_rule_line(const eng_rule *r);
int eng_rule_phase(const eng_rule *r);
int eng_rule_benefit(const eng_rule *r);
bool eng_rule_exact(const eng_rule *r);
/* Expected max relative error of an inexact rule (0 for exact ones). */
double eng_rule_tolerance(const eng_rule *r);
/* `when: cheaper`: kept only when the simulator's cycles drop. */
bool eng_rule_when_cheaper(const eng_rule *r);
bool eng_rule_enabled(const eng_rule *r);
/* Enables or disables rules by name (unknown names are errors). */
bool eng_ruleset_enable(eng_ruleset *rs, const char *name, bool on, ir_diags *d);
/* Disables every rule except those named (--only). */
bool eng_ruleset_only(eng_ruleset *rs, const char *const *names, size_t n, ir_diags *d);
/* Prints the compiled form of a rule (pattern order, constraints with where
 * they are checked), for rule authors and tests. */
void eng_rule_dump(const eng_rule *r, FILE *out);

/* ---------------------------------------------------------------- functions (rules_func.c)
 * graft's fused ops that rule files define with their bodies (`functions:`,
 * docs/rules.md 7.9), in load order. */
typedef struct eng_func_info {
	const char *domain;    /* "" for the default domain */
	const char *name, *doc;
	const char *file;      /* where it is defined */
	int line, col;
	int ninputs, noutputs, nattrs;
	const ir_graph *graph; /* holds just the function (id 1), its body as built */
} eng_func_info;
size_t eng_nfuncs(const eng_ruleset *rs);
eng_func_info eng_func_info_at(const eng_ruleset *rs, size_t i);

/* ---------------------------------------------------------------- matching (match.c) */
typedef struct eng_match {
	const eng_rule *rule;
	ir_nid *nodes;  /* matched graph nodes, pattern order (chains expanded) */
	uint32_t nnodes;
	ir_val *captures; /* per capture of the rule; IR_NONE for an absent optional */
	uint32_t ncaptures;
} eng_match;

typedef struct eng_matches {
	eng_match *v;
	size_t n, cap;
} eng_matches;

void eng_matches_free(eng_matches *m);
/* All matches of enabled rules (or only `rule` when non-NULL), anchored at
 * every candidate root, without rewriting.  Overlapping matches are all
 * listed; bindings of the same nodes (commutative operands taken in another
 * order) are listed once.  A warning names the rules whose match budget ran
 * out. */
bool eng_find_matches(const eng_ruleset *rs, const eng_rule *rule, const ir_graph *g, eng_matches *out,
		      ir_diags *d);
/* Why `rule` does not match with its root at node `at`: writes a human
 * explanation (the pattern node or constraint that failed, with the values
 * it saw) to out; returns true when it does match. */
bool eng_explain(const eng_rule *rule, const ir_graph *g, ir_nid at, FILE *out);

/* ---------------------------------------------------------------- applying (driver.c) */
typedef struct eng_options {
	uint32_t max_iterations; /* rewrites before giving up (non-convergence); 0: 10 per node + 1000 */
	uint32_t match_budget;   /* backtracking steps per anchored match attempt */
	bool verify_each;        /* run the verifier after every rewrite (debug builds default on) */
	bool records;            /* keep every rewrite's record in the report (rule, nodes, cycles);
				  * off: the counts per rule only (eng_default_options: on) */
	const void *hw;          /* hardware description for `when: cheaper` (NULL: default) */
} eng_options;

eng_options eng_default_options(void);

/* A node as a record names it: an interned string of the graph (the
 * node's name, else its first result's name, as they were when the record
 * was made); ENG_REF_ID | id for a node with neither ("#id"); or
 * ENG_REF_NEW | k for a node a rewrite made, whose name (its root's label,
 * "/", the rule's name...) is composed when asked: the report keeps the
 * parts (newnames).  eng_ref_label gives the text. */
typedef uint32_t eng_ref;
#define ENG_REF_ID 0x80000000u   /* | node id (ids are below 2^30) */
#define ENG_REF_NEW 0xC0000000u  /* | index into eng_report.newnames */
#define ENG_REF_KIND 0xC0000000u /* the bits telling the kinds apart */
#define ENG_NAME_CAP 256         /* a buffer this large holds any label */

typedef struct eng_rewrite {
	const char *rule;
	eng_ref *matched; /* the matched nodes, stored in the report (eng_report_free frees them) */
	size_t nmatched;
	eng_ref *added;   /* the nodes that replaced them */
	size_t nadded;
	double cycles_before, cycles_after; /* < 0 when the cost guard did not run */
	bool rejected;  /* the cost guard undid it */
} eng_rewrite;

typedef struct eng_report {
	eng_rewrite *v;
	size_t n, cap;
	size_t nodes_before, nodes_after;
	size_t iterations;
	size_t folded; /* constant nodes folded */
	bool converged;
	const char **rules; /* the rules that rewrote, in the order of their first rewrite */
	size_t *counts;     /* per rule: its rewrites (not those the cost guard undid) */
	size_t nrules;
	void *names;   /* where the records' name lists live (freed by eng_report_free) */
	struct eng_newname *newnames; /* how ENG_REF_NEW names are composed */
	size_t nnewnames;
} eng_report;

void eng_report_free(eng_report *r);
/* The text of a record's node reference, while g (the graph the report is
 * of) lives: an interned string of g, or written into buf (cut to cap; a
 * buffer of ENG_NAME_CAP bytes holds any label).  rep may be NULL for
 * references of other kinds than ENG_REF_NEW. */
const char *eng_ref_label(const eng_report *rep, const ir_graph *g, eng_ref r, char *buf, size_t cap);
/* Applies the enabled rules to a fixpoint: in order of phase, then benefit
 * (higher first), then graph order; greedy among overlapping matches.
 * Constant-only nodes produced by replacements are folded through the
 * simulator's kernels.  Returns false with a diagnostic naming the rules
 * involved when the iteration budget runs out, or on an internal error. */
bool eng_apply(const eng_ruleset *rs, ir_graph *g, const eng_options *o, eng_report *rep, ir_diags *d);
/* Folds every node whose operands are all constants (and that the simulator
 * can evaluate) into a constant; returns the number folded. */
size_t eng_fold_constants(ir_graph *g, ir_diags *d);

#endif
