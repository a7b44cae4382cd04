/* Layer-internal declarations of engine/: the compiled form of rules that
 * the front end (rules_load.c, rules_parse.c, expr_parse.c) produces and the
 * back end (match.c, rewrite.c, driver.c, fold.c) consumes.  Sectioned by the
 * file that defines each group.  All memory of a compiled rule belongs to
 * its ruleset's arena (eng_ruleset owns everything; freed at once). */
#ifndef GRAFT_ENGINE_INTERNAL_H
#define GRAFT_ENGINE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "engine.h"

/* A source position in a rule file (1-based). */
typedef struct eng_loc {
	const char *file; /* interned in the ruleset; never NULL */
	int line, col;
} eng_loc;

/* ---------------------------------------------------------------- expressions (expr_parse.c, expr_eval.c)
 * Used for `where:` constraints, attribute constraints in patterns, computed
 * attributes and constant shapes/values in replacements. */
typedef enum {
	EX_INT,     /* i */
	EX_FLOAT,   /* f */
	EX_STRING,  /* s */
	EX_BOOL,    /* i (0/1) */
	EX_LIST,    /* args: elements */
	EX_CAPTURE, /* ref: capture index ($x) */
	EX_NODE,    /* ref: pattern node index (a bare name in a pattern) */
	EX_CALL,    /* fn: builtin; args */
	EX_UNARY,   /* op: '-' or '!'; args[0] */
	EX_BINARY,  /* op: one of eng_binop; args[0], args[1] */
	EX_COND,    /* args[0] ? args[1] : args[2] */
	EX_NONE     /* the literal `none` */
} eng_ex_kind;

typedef enum {
	OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD
} eng_binop;

/* Builtin functions.  Each has a signature checked at compile time
 * (expr_check in expr_parse.c) so that type errors are rule-file errors. */
typedef enum {
	FN_DIM,       /* dim(value, i) -> int; i < 0 counts from the end */
	FN_RANK,      /* rank(value) -> int */
	FN_NUMEL,     /* numel(value) -> int */
	FN_DTYPE,     /* dtype(value) -> string ("f32", ...) */
	FN_SHAPE,     /* shape(value) -> list of int */
	FN_ATTR,      /* attr(node, "name" [, default]) -> the attribute (registry default when absent) */
	FN_HAS_ATTR,  /* has_attr(node, "name") -> bool */
	FN_IS_CONST,  /* is_const(value) -> bool (a constant, or a Constant node's result) */
	FN_USES,      /* uses(value) -> int (graph outputs count as a use) */
	FN_IS_OUTPUT, /* is_output(value) -> bool */
	FN_MATCHES,   /* matches(string, "pcre2 regex") -> bool */
	FN_VALUE,     /* value(value) -> number or list: a constant's data (small constants only) */
	FN_LEN,       /* len(list) -> int; also the count of a variadic capture */
	FN_ABS, FN_MIN, FN_MAX,
	FN_OP,        /* op(node) -> string: the matched node's op type */
	FN_FILL,      /* fill(shape, value [, "dtype"]) -> constant (replacements only) */
	FN_CONST,     /* const(list-or-number [, "dtype"]) -> constant (replacements only) */
	FN_COUNT
} eng_fn;

typedef struct eng_ex eng_ex;
struct eng_ex {
	eng_ex_kind kind;
	int op;       /* eng_binop, or '-' / '!' for EX_UNARY */
	eng_fn fn;
	int64_t i;
	double f;
	const char *s;
	uint32_t s_len;
	int ref;      /* capture or pattern node index */
	eng_ex **args;
	int nargs;
	pcre2_code *re; /* FN_MATCHES with a literal regex: compiled once */
	eng_loc loc;
};

/* A run-time value of an expression. */
/* EV_VALUE: i is a graph value id (a capture; an absent optional capture
 * evaluates to EV_NONE).  EV_NODE: i is the bound graph node id (a pattern
 * node name; a chain's last link). */
typedef enum { EV_NONE, EV_INT, EV_FLOAT, EV_BOOL, EV_STRING, EV_LIST, EV_VALUE, EV_NODE } eng_ev_kind;
typedef struct eng_ev {
	eng_ev_kind kind;
	uint32_t n;           /* EV_LIST: the number of items */
	union {               /* by kind: 24 bytes in all, copied often */
		int64_t i;    /* EV_INT, EV_BOOL, EV_VALUE, EV_NODE */
		double f;     /* EV_FLOAT */
		struct {
			const char *s; /* EV_STRING: not owned; points into the graph or the rule */
			size_t s_len;
		};
		struct eng_ev *items; /* EV_LIST: owned by the evaluation scratch */
	};
} eng_ev;

/* ---------------------------------------------------------------- patterns (rules_parse.c)
 * A rule's pattern is a small DAG of pattern nodes.  Operands refer to
 * captures ($x), to other pattern nodes' results, or are wildcards. */
typedef enum {
	PO_CAPTURE,  /* index: capture */
	PO_NODE,     /* index: pattern node; result: which result */
	PO_WILDCARD  /* `_`: any value (or absent when optional) */
} eng_po_kind;

typedef struct eng_operand {
	eng_po_kind kind;
	int index;
	int result;
	bool optional; /* `$b?`: may be absent (an empty slot or missing trailing operand) */
	bool variadic; /* `$xs...`: binds all remaining operands (a list capture); last only */
	eng_loc loc;
} eng_operand;

typedef enum {
	OPM_NAMES, /* names[0..nnames): exact op types, alternatives with `|` */
	OPM_REGEX, /* re: PCRE2, anchored over the whole op type (names[0]: its source text) */
	OPM_CLASS, /* traits: every bit must be set in the registry's traits */
	OPM_ANY    /* `*`: any op */
} eng_opm_kind;

typedef struct eng_attr_check {
	const char *name; /* attribute */
	eng_ex *value;    /* attr must equal this (registry default when absent) */
	eng_loc loc;
} eng_attr_check;

typedef struct eng_pnode {
	const char *name;     /* the name its results are referred to by (anonymous nested: "_N") */
	eng_loc loc;
	eng_opm_kind opkind;
	const char **names;
	int nnames;
	const char *domain;   /* NULL: any domain for OPM_CLASS/REGEX/ANY, default domain for names */
	pcre2_code *re;
	unsigned traits;
	int min_repeat, max_repeat; /* a chain `@unary[1..8]`: 1..N single-use links; 1,1 otherwise */
	eng_operand *ins;
	int nins;
	int nresults;         /* results named on the left-hand side (>= 1) */
	const char **result_names;
	eng_attr_check *attrs;
	int nattrs;
	bool commutative;     /* derived from the registry when every op it can match is commutative */
	bool opcodes_known;   /* opcodes holds what it accepts of the registry (eng_plan) */
	uint64_t opcodes[(IR_OP_COUNT + 63) / 64]; /* bit c: accepts a default-domain node of opcode c */
} eng_pnode;

typedef struct eng_capture {
	const char *name; /* without the '$' */
	bool is_list;     /* bound by a variadic operand */
	eng_loc loc;      /* first occurrence */
} eng_capture;

/* ---------------------------------------------------------------- replacements (rules_parse.c) */
typedef enum {
	RO_CAPTURE, /* index: capture ($x; a list capture spreads all its values) */
	RO_PNODE,   /* index: pattern node, result: which result (reuse a matched value) */
	RO_RNODE,   /* index: replacement node, result */
	RO_NONE,    /* `_`: an absent operand */
	RO_EXPR     /* expr: fill(...) / const(...) producing a new constant */
} eng_ro_kind;

typedef struct eng_roperand {
	eng_ro_kind kind;
	int index;
	int result;
	eng_ex *expr;
	eng_loc loc;
	/* `$b ?? other` (kind RO_CAPTURE, an optional capture): what to use
	 * when $b is absent; NULL otherwise.  May itself have a fallback. */
	struct eng_roperand *fallback;
} eng_roperand;

/* spread_node of `...@` (function bodies): every declared attribute the op
 * has, by reference. */
#define ENG_SPREAD_REFS (-2)

typedef struct eng_rattr {
	const char *name; /* NULL for a spread `...node` / `...@` */
	eng_ex *value;    /* computed value (NULL for a reference) */
	const char *ref;  /* `name = @ref` (function bodies): the function's attribute */
	int spread_node;  /* pattern node whose attributes are all copied (name == NULL) */
	eng_loc loc;
} eng_rattr;

typedef struct eng_func eng_func;

typedef struct eng_rnode {
	const char *name;   /* first result's name (replacement-local, or a pattern value it replaces) */
	eng_loc loc;
	const char *domain; /* NULL: default ONNX domain; "graft" for graft's own ops */
	const char *op;
	eng_roperand *ins;
	int nins;
	int nresults;
	const char **result_names;
	eng_rattr *attrs;
	int nattrs;
	const eng_func *func; /* the rule-file function (domain, op) names, or NULL */
} eng_rnode;

/* A pattern value replaced by a replacement value (the left-hand side of a
 * replacement line names a pattern node's result), or by a capture/pattern
 * value directly (`r = $x` removes the matched nodes and rewires to $x). */
typedef struct eng_output_map {
	int pnode, presult;  /* replaced pattern value */
	eng_roperand with;   /* what takes its place */
} eng_output_map;

/* ---------------------------------------------------------------- rules */
struct eng_rule {
	const char *name, *doc;
	eng_loc loc;
	char *loc_text;      /* "file:line:col" */
	int phase, benefit;
	bool exact;          /* false: changes the model's function */
	double tolerance;    /* when !exact: expected max relative error */
	bool when_cheaper;   /* cost guard */
	bool allow_escape;   /* intermediate values may have users outside the match (they are kept) */
	bool enabled;
	eng_pnode *pnodes;
	int npnodes;
	eng_capture *captures;
	int ncaptures;
	eng_ex **where;
	int nwhere;
	eng_rnode *rnodes;  /* dependency order: an RO_RNODE operand's index is below its user's */
	int nrnodes;
	/* `replace: fuse domain::Op`: the matched nodes become the body of a
	 * function (rewrite_fuse.c); rnodes[0] is its call, outputs map the
	 * sinks' results to the call's.  fuse_op NULL for other rules. */
	const char *fuse_domain, *fuse_op;
	eng_output_map *outputs;
	int noutputs;
	/* Compiled matching plan (match_plan.c): the order in which pattern
	 * nodes are bound, starting at `root` (a sink: a pattern node no other
	 * pattern node uses), and after which step each `where` constraint is
	 * decidable.  Several sinks: the plan joins the others through shared
	 * captures/nodes (VF2++-style, most constrained first). */
	int root;
	int *order;      /* npnodes entries */
	int *where_step; /* nwhere entries: index into order after which it can be checked */
	int *sinks;
	int nsinks;
	/* The one-level check (eng_match_plausible): the root's operands that
	 * must come from a node a pattern node accepts, as (operand, pattern
	 * node) pairs; checks_perm: the operands may be matched in any order
	 * when the node's op is commutative; checks_none: the root is a chain
	 * (the check always passes). */
	int (*checks)[2];
	int nchecks;
	bool checks_perm, checks_none;
};

/* ---------------------------------------------------------------- functions (rules_func.c)
 * A function a rule file defines under `functions:` (graft's fused ops get
 * their bodies this way).  Its body is compiled like a replacement over the
 * formal inputs (as captures) and built once, at load time, into a template
 * graph whose function table holds it (default opset 13); the rewriter
 * installs it into a graph on first use. */
struct eng_func {
	const char *domain, *name; /* domain NULL: the default domain */
	const char *doc;
	eng_loc loc;
	int ninputs, noutputs;
	const char **attrs;        /* declared attribute names */
	int nattrs;
	ir_graph *tmpl;            /* holds the function (id 1); freed with the ruleset */
};

struct eng_ruleset {
	eng_rule **rules;
	size_t n, cap;
	eng_func **funcs; /* in load order; names unique */
	size_t nfuncs, fcap;
	void *arena; /* opaque: the allocator of everything above (rules_load.c) */
};

/* ---- rules_load.c */
/* Arena allocation owned by the ruleset (zeroed); never NULL (aborts on OOM
 * is NOT allowed: returns NULL and the loader reports out of memory). */
void *eng_alloc(eng_ruleset *rs, size_t n);
const char *eng_strdup(eng_ruleset *rs, const char *s, size_t n);

/* ---- match_plan.c */
/* Computes root/order/where_step/sinks; false with a diagnostic when the
 * pattern is not connected or otherwise not matchable.  The loader
 * (rules_load.c) calls it once for every rule that compiled without errors
 * (the front end has already checked connectivity, sinks and names). */
bool eng_plan(eng_ruleset *rs, eng_rule *r, ir_diags *d);
/* Per pattern node: the longest distance, in graph edges, from the first
 * graph node it binds down to a sink's last one (chains count their longest
 * run, capped at 64). */
void eng_plan_heights(const eng_rule *r, int *heights);

/* ---- match.c: a (partial) match, as the matcher builds it and as
 * expressions and the rewriter read it. */
typedef struct eng_binding {
	const eng_rule *rule;
	const ir_graph *g;
	ir_nid *pnode;        /* per pattern node: bound graph node (a chain: its LAST link), 0 = unbound */
	ir_nid **chain;       /* per pattern node: links of a chain in order (NULL when not a chain) */
	uint32_t *chain_n;
	ir_val *cap;          /* per capture: the value; IR_NONE when absent (optional) */
	bool *cap_bound;      /* per capture: bound yet (an absent optional is bound to IR_NONE) */
	ir_val **list;        /* per list capture: its values (NULL otherwise) */
	uint32_t *list_n;
} eng_binding;

/* ---- expr_eval.c (eng_attr_ev: expr_builtin.c; eng_eval_const: expr_const.c) */
/* Scratch memory of evaluations: list values (eng_ev.items) live here until
 * the next eng_scratch_reset.  Zero-initialize (`eng_scratch s = {0};`),
 * reset between evaluations whose results are no longer needed, free once. */
typedef struct eng_scratch_block eng_scratch_block;
#define ENG_DEFAULTS 4
typedef struct eng_scratch {
	eng_scratch_block *head;
	/* scalar registry defaults (attr() of an absent attribute) parsed
	 * lately, by the default's text; kept across resets */
	const char *dflt_text[ENG_DEFAULTS];
	eng_ev dflt[ENG_DEFAULTS];
	unsigned dflt_next;
} eng_scratch;
void eng_scratch_reset(eng_scratch *s);
void eng_scratch_free(eng_scratch *s);
/* Evaluates e against a (partial) binding; false when an operand is unbound
 * or a value is unknown (e.g. dim of an unknown shape), with a reason in
 * why (may be NULL) for --explain.  Lists in *out point into scratch s.
 * g may be NULL (then b->g is used). */
bool eng_eval(const eng_ex *e, const ir_graph *g, const eng_binding *b, eng_scratch *s, eng_ev *out, char *why,
	      size_t why_n);
/* True when every capture/pattern node e mentions is bound in b. */
bool eng_ex_ready(const eng_ex *e, const eng_binding *b);
/* Attribute `name` of graph node n as an expression value (lists in s),
 * the registry's default when absent; false (reason in why) when absent
 * without a default or of a kind expressions do not read (tensor, graph). */
bool eng_attr_ev(const ir_graph *g, ir_nid n, const char *name, eng_scratch *s, eng_ev *out, char *why,
		 size_t why_n);
/* Equality as `==` computes it: numbers (and bools) by value, strings by
 * bytes, lists element-wise, values/nodes by id, none only with none. */
bool eng_ev_equal(const eng_ev *a, const eng_ev *b);
/* Builds the constant of a replacement operand's fill(...)/const(...) (an
 * RO_EXPR's expr) in g: evaluates its arguments against b and adds a tensor
 * and a constant value (unnamed); IR_NONE with a reason in why on failure
 * (unknown shape, bad dtype, ...). */
ir_val eng_eval_const(const eng_ex *e, ir_graph *g, const eng_binding *b, eng_scratch *s, char *why, size_t why_n);
/* eng_eval_const's tensor, not added to the graph (out is the caller's to
 * free); false with the reason in why. */
struct sim_tensor;
bool eng_eval_tensor(const eng_ex *e, const ir_graph *g, const eng_binding *b, eng_scratch *s, char *why,
		     size_t why_n, struct sim_tensor *out);
/* fold.c: a new graph tensor holding t, taking t's buffer when the graph
 * can (t then no longer owns it), else a copy; 0 when out of memory. */
ir_tid eng_fold_tensor(ir_graph *g, struct sim_tensor *t);

/* ---------------------------------------------------------------- the back end
 * (match*.c, edit.c, rewrite*.c, fold.c, driver.c; docs/engine.md) */

/* ---- match.c: the anchored backtracking matcher */
typedef struct eng_matcher eng_matcher;
typedef enum { ENG_M_DONE, ENG_M_STOPPED, ENG_M_BUDGET, ENG_M_NOMEM } eng_mstatus;
/* Called for every complete match (b is valid during the call only; the
 * callback may edit the graph only when it then returns true); returns
 * true to stop the search. */
typedef bool (*eng_on_match)(void *ctx, const eng_binding *b);
eng_matcher *eng_matcher_new(void);
void eng_matcher_free(eng_matcher *m);
/* With explain on, the matcher keeps the reason of its deepest failure. */
void eng_matcher_explain(eng_matcher *m, bool on);
const char *eng_matcher_why(const eng_matcher *m);
/* True when graph node n satisfies p's op match (names, regex, class).  A
 * registered op of the default domain is looked up in p's table
 * (eng_pnode_opcodes), other ops by name (eng_op_matches_named). */
bool eng_op_matches_named(eng_matcher *m, const eng_pnode *p, const ir_graph *g, const ir_node *x);
static inline bool eng_op_matches(eng_matcher *m, const eng_pnode *p, const ir_graph *g, ir_nid n)
{
	const ir_node *x = ir_node_at(g, n);
	if (!x || x->dead)
		return false;
	if (x->opcode != IR_OP_OPAQUE && !x->domain && p->opcodes_known)
		return p->opcodes[x->opcode / 64] >> (x->opcode % 64) & 1;
	return eng_op_matches_named(m, p, g, x);
}
/* Fills p->opcodes: which registered ops p accepts (false when out of memory). */
bool eng_pnode_opcodes(eng_pnode *p);
/* A necessary condition for a match of r rooted at `at`, from at's op and
 * its operands' producers' ops only (so it changes only when at's operands
 * do).  eng_match_at checks it first. */
bool eng_match_plausible(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at);
/* Enumerates, in a deterministic order, the matches of r whose root is
 * bound to `at`, within `budget` search steps (0: unlimited). */
eng_mstatus eng_match_at(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at,
			 uint32_t budget, eng_on_match fn, void *ctx);
/* eng_match_plausible and eng_match_at for a rule the op index chose for
 * `at` (eng_index_rules): they do not check the root's op again.
 * requires: r's root pattern node accepts at's (op, domain). */
bool eng_match_plausible_indexed(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at);
/* Compiles r's one-level check (eng_plan; false when out of memory). */
bool eng_plan_checks(eng_ruleset *rs, eng_rule *r);
eng_mstatus eng_match_indexed(eng_matcher *m, const eng_rule *r, const ir_graph *g, ir_nid at,
			      uint32_t budget, eng_on_match fn, void *ctx);
/* The matched graph nodes of a complete binding in pattern order, chains
 * expanded; returns their count (out may be NULL to count only). */
uint32_t eng_binding_nodes(const eng_binding *b, ir_nid *out);
/* The value bound to pattern node p's result r (a chain: its last link's). */
ir_val eng_binding_value(const eng_binding *b, int p, int r);
/* A node's display name: its name, else its first result's, else "#id". */
const char *eng_node_label(const ir_graph *g, ir_nid n, char *buf, size_t cap);
/* n as a report record names it (engine.h: eng_ref). */
eng_ref eng_node_ref(const ir_graph *g, ir_nid n);

/* ---- match.c, match_chain.c, match_check.c: the matcher's state, shared
 * by these three files only */
typedef struct eng_trail {
	uint8_t kind;
	uint32_t index;
} eng_trail;

typedef struct eng_vbuf { /* a growable buffer (per pattern node or capture) */
	void *v;
	uint32_t cap;
} eng_vbuf;

#define ENG_WHY_CAP 1024

#define ENG_OPM_CACHE 256 /* remembered op matches (a power of two) */
typedef struct eng_opm_ent {
	const eng_pnode *p;
	ir_str op, domain;
	bool yes;
} eng_opm_ent;

struct eng_matcher {
	const eng_rule *r;
	const ir_graph *g;
	eng_binding b;
	void *bind_block;        /* b's arrays, in one block (cleared per search) */
	size_t bind_bytes;
	const ir_graph *opm_g;   /* the graph whose op matches opm remembers */
	eng_opm_ent opm[ENG_OPM_CACHE];
	int cap_p, cap_c;        /* allocated pattern nodes / captures */
	eng_vbuf *links, *cpos;  /* per pnode: chain links and their chain operands (forward) */
	eng_vbuf *rlinks, *rpos; /* per pnode: links found walking backward */
	eng_vbuf *lists;         /* per capture: list capture values */
	eng_vbuf rest;           /* scratch: a variadic operand list being bound */
	uint64_t *deferred;      /* per pnode: attribute checks not decidable when bound */
	int *pval_off;           /* per pnode: offset of its results in pval */
	const eng_rule *pval_rule; /* the rule pval_off is for (NULL: none) */
	int pval_n;              /* its pattern results */
	ir_val *pval;            /* per pattern result: the value a bound user requires */
	int cap_pval;
	eng_trail *trail;        /* undo records of capture and value bindings */
	size_t ntrail, trail_cap;
	ir_nid *used;            /* bound graph nodes (injectivity) */
	size_t nused, used_cap;
	uint32_t budget, steps;
	eng_mstatus status;
	eng_on_match fn;
	void *ctx;
	pcre2_match_data *md;
	eng_scratch scratch;
	bool explain;
	bool root_ok;            /* the search's root op is known to match (eng_match_indexed) */
	int why_depth;
	char why[ENG_WHY_CAP];
};

/* match.c.  The search functions return true to stop (a callback said so,
 * the budget ran out, or out of memory: m->status tells). */
bool eng_m_need(eng_matcher *m, eng_vbuf *b, uint32_t n, size_t size);
bool eng_m_budget_hit(eng_matcher *m);
bool eng_m_is_used(const eng_matcher *m, ir_nid n);
bool eng_m_push_used(eng_matcher *m, ir_nid n);
void eng_m_undo(eng_matcher *m, size_t mark);
/* Binds one (non-variadic) pattern operand to v; false when it cannot. */
bool eng_m_operand(eng_matcher *m, const eng_operand *o, ir_val v);
bool eng_m_bind_list(eng_matcher *m, int c, const ir_val *v, uint32_t n);
/* After pattern node p was bound at step i: its checks, then step i + 1. */
bool eng_m_after_bind(eng_matcher *m, int i, int p);
bool eng_m_commutative(const ir_graph *g, ir_nid n);
/* Operand j of n repeats an earlier operand's value. */
bool eng_m_dup_operand(const ir_graph *g, ir_nid n, uint32_t j);
/* match_chain.c */
bool eng_m_is_chain(const eng_pnode *pn);
bool eng_m_chain_from_last(eng_matcher *m, int i, int p, ir_nid n);
bool eng_m_chain_from_first(eng_matcher *m, int i, int p, ir_nid u, uint32_t j);
/* match_check.c */
int eng_m_depth(int step, int stage);
void eng_m_fail(eng_matcher *m, int depth, const char *fmt, ...) IR_PRINTF(3, 4);
/* Records a failure only when explaining (its arguments are not evaluated
 * otherwise: formatting them is most of the cost of a failed attempt). */
#define ENG_M_FAIL(m, ...)                                                                         \
	do {                                                                                       \
		if ((m)->explain)                                                                  \
			eng_m_fail((m), __VA_ARGS__);                                              \
	} while (0)
const char *eng_m_value_text(const ir_graph *g, ir_val v, char *buf, size_t cap);
const char *eng_m_node_text(const ir_graph *g, ir_nid n, char *buf, size_t cap);
const char *eng_m_opm_text(const eng_pnode *pn, char *buf, size_t cap);
void eng_m_operand_failed(eng_matcher *m, int i, int p, int k, ir_val v);
bool eng_m_attrs_now(eng_matcher *m, int i, int p);
bool eng_m_attrs_deferred(eng_matcher *m);
bool eng_m_wheres_at(eng_matcher *m, int i);
bool eng_m_no_escape(eng_matcher *m);

/* ---- match_index.c: rules indexed by the op of their root */
/* What the index knows about one op: its rules (a run of the pool) and
 * how far below a node of that op the root of a match may be. */
typedef struct eng_index_entry {
	uint32_t off, cnt;
	int reach;
} eng_index_entry;

typedef struct eng_index {
	const eng_rule *const *rules;
	size_t nrules;
	int **heights;     /* per rule, per pattern node: its height (eng_plan_heights) */
	const ir_graph *g; /* the graph whose string ids the keys use */
	uint32_t *by_op;   /* per op string id (default domain): entry + 1; 0 unknown */
	size_t nby_op;
	uint64_t *keys;    /* open addressing over (op, domain); 0 = empty */
	uint32_t *slot;    /* per key: entry */
	size_t cap, used;
	eng_index_entry *ent;
	size_t nent, ent_cap;
	uint32_t *pool;    /* rule indices, per entry a run */
	size_t npool, pool_cap;
} eng_index;
/* Indexes rules[0..n) (kept by pointer; their order is their priority). */
eng_index *eng_index_new(const eng_rule *const *rules, size_t n);
void eng_index_free(eng_index *ix);
/* The rules (ascending indices into the indexed list) whose root op match
 * accepts node n; *count 0 for none; NULL when out of memory.  Inline for
 * an op of the default domain seen before; eng_index_lookup otherwise. */
const uint32_t *eng_index_lookup(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n, uint32_t *count);
extern const uint32_t eng_index_none;
static inline const uint32_t *eng_index_rules(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n,
					      uint32_t *count)
{
	const ir_node *x = ir_node_at(g, n);
	if (ix->g != g || x->domain || x->op >= ix->nby_op || !ix->by_op[x->op])
		return eng_index_lookup(ix, m, g, n, count);
	const eng_index_entry *e = &ix->ent[ix->by_op[x->op] - 1];
	*count = e->cnt;
	return e->cnt ? ix->pool + e->off : &eng_index_none;
}
/* The largest height (eng_plan_heights) of a pattern node of the indexed
 * rules that accepts node n's op: a match containing n has its root at most
 * that far downstream of n.  -1 when no pattern node accepts it; -2 when
 * out of memory. */
int eng_index_reach(eng_index *ix, eng_matcher *m, const ir_graph *g, ir_nid n);

/* ---- edit.c, rewrite.c: editing the graph for the driver (and fold.c) */
typedef struct eng_hooks {
	void *ctx;
	void (*touched)(void *ctx, ir_nid n); /* n is new, or its operands or users changed */
	void (*removed)(void *ctx, ir_nid n); /* n was removed (told even while touched is off) */
	void (*moved)(void *ctx, ir_nid n);   /* n moved in the graph order (then touched) */
} eng_hooks;

typedef struct eng_rw {
	ir_graph *g;
	ir_diags *d;
	const char *file;     /* names the graph in diagnostics (may be NULL) */
	bool verify_each;
	const void *hw;       /* the cost guard's hardware (sim_hw); NULL: the default built-in */
	void *hw_own;         /* the default built-in, loaded on first use */
	eng_hooks hooks;
	uint64_t *label;      /* per node id: position in the graph order (increasing) */
	uint32_t *stamp;      /* per node id: scratch membership marks */
	size_t nids;          /* entries of label and stamp */
	uint32_t cur;         /* the last stamp handed out */
	ir_val *dead;         /* constants that lost their last use, removed in batches */
	size_t ndead, dead_cap;
	ir_val *queue;        /* values that lost a use: their producers may be dead */
	size_t nqueue, queue_cap;
	ir_nid *tmp, *tmp2;   /* scratch node lists */
	size_t tmp_cap, tmp2_cap;
	ir_val *vals;         /* scratch operand list */
	size_t vals_cap;
	eng_scratch scratch;  /* expression evaluation */
	struct eng_memo *memo; /* inferred calls (infer_memo.c); NULL until the first */
	ir_graph *eager;      /* scratch graph of replacement nodes evaluated eagerly (rewrite.c) */
	uint32_t eager_gen;   /* how many scratch graphs were made (rewrite.c's string cache) */
	int64_t eager_opset;  /* the graph's default opset, which the scratch graphs import */
	bool eager_opset_known;
	void **names;         /* the report's name storage (eng_arena_alloc): records' names go there */
	struct eng_newname *nn; /* replacement nodes waiting for their names (names.c) */
	size_t nnn, nn_cap;
	uint32_t *nn_of;      /* per node id from nn_first: its entry in nn + 1, 0 for none */
	ir_nid nn_first;      /* the first node id made while rewriting */
	size_t nn_ids;
	struct eng_rncache *rnc; /* per replacement node of a rule: its strings in g (rewrite.c) */
	struct eng_excache *exc; /* constants of replacements that no match changes (rewrite.c) */
	size_t folded;        /* nodes folded into constants */
	bool oom;
} eng_rw;

typedef enum { ENG_RW_DONE, ENG_RW_REJECTED, ENG_RW_ERROR } eng_rwstatus;

/* ---- names.c */
/* A replacement node's name, composed from its parts when asked: its
 * root's label when the rewrite was made (an eng_ref; ENG_REF_NEW: another
 * entry's name), "/", suffix ("rule" or "rule/replacement name"). */
typedef struct eng_newname {
	ir_nid node;
	eng_ref base;
	ir_str suffix;
	uint32_t depth; /* entries its composition reads */
} eng_newname;

/* The suffix of the names of the nodes replacement node i of r makes:
 * "rule", or "rule/<replacement name or index>" when r has several. */
ir_str eng_name_suffix(ir_graph *g, const eng_rule *r, int i);
/* How a record names n now: ENG_REF_NEW | k while n waits for its name. */
eng_ref eng_rw_ref(const eng_rw *w, ir_nid n);
/* The text of r (names composed from w's entries; see eng_ref_label). */
const char *eng_rw_ref_text(const eng_rw *w, eng_ref r, char *buf, size_t cap);
/* eng_node_label, for nodes that may wait for their names. */
const char *eng_rw_label(const eng_rw *w, ir_nid n, char *buf, size_t cap);
/* New node n is named "<base's text cut at 127>/<suffix>" later (false
 * when out of memory, w->oom set). */
bool eng_rw_name_later(eng_rw *w, ir_nid n, eng_ref base, ir_str suffix);
/* Interns and sets the names of the waiting nodes still alive. */
void eng_rw_name_nodes(eng_rw *w);
/* The report takes the entries (for eng_ref_label of its records). */
void eng_rw_give_names(eng_rw *w, eng_report *rep);

/* ---- infer_memo.c */
typedef struct eng_memo eng_memo;
/* Infers the types of replacement node n (errors in d); a call takes the
 * result types of an earlier call with the same op, operand types and
 * attributes when there was one. */
void eng_infer_replacement(eng_rw *w, ir_nid n, ir_diags *d);
void eng_memo_free(eng_memo *m);

/* Frees rewrite.c's cache of fixed constants (eng_rw_free). */
void eng_excache_free(struct eng_excache *c);
/* requires: g in topological order.  With label false the caller labels
 * the nodes before any edit: node k of the graph order (from 1) gets
 * k * ENG_LABEL_GAP (a pass that walks the graph anyway saves a walk). */
bool eng_rw_init(eng_rw *w, ir_graph *g, ir_diags *d, bool label);
#define ENG_LABEL_GAP (1ull << 32) /* order label spacing after a relabelling */
/* Removes the batched dead constants and frees the context. */
void eng_rw_free(eng_rw *w);
/* Applies one complete match: builds and infers the replacement, checks
 * that it creates no cycle (and, for `when: cheaper`, that it lowers the
 * cycles), rewires, removes dead nodes and folds constant replacement
 * nodes.  rec (may be NULL) receives the names of the matched and new nodes
 * and the cost guard's cycles.  REJECTED leaves the graph as it was. */
eng_rwstatus eng_rw_apply(eng_rw *w, const eng_binding *b, eng_rewrite *rec);
/* Labels a node just placed in the graph order (between its neighbours). */
bool eng_rw_label_new(eng_rw *w, ir_nid n);
/* Removes node n and queues its operands for the dead-code check. */
void eng_rw_remove_node(eng_rw *w, ir_nid n);
/* Queues v (which lost a use) for the dead-code check of eng_rw_sweep. */
void eng_rw_queue(eng_rw *w, ir_val v);
/* Tells the driver that v's producer changed (its uses did). */
void eng_rw_touch_value(eng_rw *w, ir_val v);
/* Removes nodes and constants queued as dead by eng_rw_remove_node. */
void eng_rw_sweep(eng_rw *w);
/* Removes the batched dead constants now. */
void eng_rw_flush_consts(eng_rw *w);
/* A fresh membership stamp (0 when out of memory). */
uint32_t eng_rw_stamp(eng_rw *w);
/* n bytes (8-byte aligned) from an arena of chunks whose head is *arena
 * (NULL: empty); NULL when out of memory.  eng_arena_free frees it all. */
void *eng_arena_alloc(void **arena, size_t n);
void eng_arena_free(void *arena);
/* Grows a scratch node list to hold n entries. */
bool eng_rw_need(eng_rw *w, ir_nid **v, size_t *cap, size_t n);
/* The cost guard's hardware description (a sim_hw); NULL when none loads. */
const void *eng_rw_hw(eng_rw *w);

/* ---- rewrite_fuse.c */
/* Builds the call of a `fuse` rule before `anchor`: the matched nodes
 * (nm of them, any order) become a function's body, the match's external
 * operands its inputs (in order of first use), the replaced values its
 * outputs; a function of that name with an equal body is reused, else the
 * first free name of Op, Op_2, Op_3, ... is installed.  *call receives the
 * node.  REJECTED (reason in why) leaves g as it was. */
eng_rwstatus eng_fuse_match(eng_rw *w, const eng_binding *b, const ir_nid *matched, uint32_t nm, ir_nid anchor,
			    ir_nid *call, char *why, size_t why_n);

/* ---- rewrite_ops.c */
/* Sets attribute name of node n to v (a list becomes ints, floats or
 * strings; a number takes the registry's kind for registered ops; none
 * removes it); false for values no attribute can hold. */
bool eng_put_attr(ir_graph *g, ir_nid n, const char *name, const eng_ev *v);
/* Copies every attribute of node from to node to (same graph). */
void eng_copy_attrs(ir_graph *g, ir_nid from, ir_nid to);
/* The known parts of two types agree (dtype, rank, dims). */
bool eng_types_compatible(const ir_graph *g, ir_type a, ir_type b);

/* ---- fold.c */
/* Folds node n into constants when all its operands are constants and the
 * simulator evaluates it (a single-use constant operand of the result's
 * size gives its buffer).  true when folded. */
bool eng_fold_node(eng_rw *w, ir_nid n);

/* ---------------------------------------------------------------- the rule compiler (front end)
 * Shared by the front end's files only (rules_*.c, expr_*.c); the back end
 * needs nothing below. */

/* A YAML scalar's content with the file position of each of its bytes
 * (block scalars mapped line by line, quoted ones past the quote). */
typedef struct eng_text {
	const char *s; /* NUL-terminated content */
	size_t n;
	const int *line, *col; /* n + 1 entries each (the last: just past the end) */
	const char *file;
} eng_text;

/* ---- rules_load.c: the arena */
/* Grows an arena vector of n elements so that one more fits (the old block
 * is abandoned to the arena); returns the (possibly moved) vector or NULL. */
void *eng_grow(eng_ruleset *rs, void *v, int n, int *cap, size_t size);
/* Compiles a PCRE2 regex anchored at both ends, freed with the ruleset;
 * NULL with *err and *off (pcre2 error code and offset) on failure. */
pcre2_code *eng_regex(eng_ruleset *rs, const char *re, size_t n, int *err, size_t *off);

/* ---- rules_lex.c: tokens of pattern, replace and expression lines */
typedef enum {
	TK_EOF, TK_NEWLINE, TK_NAME, TK_CAPTURE, TK_INT, TK_FLOAT, TK_STRING, TK_PUNCT, TK_ERROR
} eng_tok_kind;

/* TK_PUNCT codes: the character itself for one-character tokens, these for longer ones. */
enum { P_EQ = 256, P_NE, P_LE, P_GE, P_AND, P_OR, P_DCOLON, P_COALESCE, P_ELLIPSIS, P_DOTDOT };

typedef struct eng_tok {
	eng_tok_kind kind;
	int punct;       /* TK_PUNCT */
	size_t pos, end; /* bytes of the token in the text (TK_CAPTURE: with the '$') */
	int64_t i;       /* TK_INT */
	double f;        /* TK_FLOAT */
} eng_tok;

typedef struct eng_lexer {
	const eng_text *t;
	eng_tok tok;   /* the current token */
	ir_diags *d;
	bool nl_blank; /* newlines are blanks (a `where:` text is one expression) */
} eng_lexer;

eng_loc eng_text_loc(const eng_text *t, size_t i);
void eng_lex_init(eng_lexer *lx, const eng_text *t, bool nl_blank, ir_diags *d);
/* Moves to the next token (lexical errors are reported and give TK_ERROR). */
void eng_lex_next(eng_lexer *lx);
/* The token after the current one, without moving or reporting. */
eng_tok eng_lex_peek(const eng_lexer *lx);
bool eng_tok_is(const eng_tok *tk, int punct);
/* requires: the current token is '/'.  Reads a regex up to the next
 * unescaped '/' on the line into [*start, *end) and moves past it. */
bool eng_lex_regex(eng_lexer *lx, size_t *start, size_t *end);
/* Decodes a TK_STRING into the ruleset's arena (NULL on OOM). */
const char *eng_lex_string(eng_ruleset *rs, const eng_text *t, const eng_tok *tk, uint32_t *len);
/* Text byte of byte `off` of the decoded string tk. */
size_t eng_lex_string_src(const eng_text *t, const eng_tok *tk, size_t off);
/* Short description of a token for messages ("')'", "end of line", "name 'x'"). */
void eng_tok_describe(const eng_text *t, const eng_tok *tk, char *buf, size_t n);
size_t eng_edit_distance(const char *a, size_t an, const char *b, size_t bn);
/* The candidate closest to name when close enough for a "did you mean", else NULL. */
const char *eng_closest(const char *name, size_t n, const char *const *cands, size_t ncands);

/* ---- rules_parse.c: a rule's compile context, pattern lines */
struct eng_cc;
/* Position of the lexer's current token. */
eng_loc eng_tok_loc(const eng_lexer *lx);
/* Reports "expected WHAT, got TOKEN" (unless the lexer already reported
 * the token); returns false. */
bool eng_syntax_error(struct eng_cc *cc, const eng_lexer *lx, const char *what);
/* Consumes punct or reports eng_syntax_error. */
bool eng_expect(struct eng_cc *cc, eng_lexer *lx, int punct, const char *what);
typedef struct eng_pending { /* a name operand waiting for every line to be read */
	const char *name;
	uint32_t len;
	int result; /* `name.N`: N; -1 when not given */
} eng_pending;

typedef struct eng_cc {
	eng_ruleset *rs;
	eng_rule *r;
	ir_diags *d;
	int nerrors;
	int pcap, ccap, wcap, rcap, ocap, ncap; /* capacities of the vectors */
	eng_pending *names; /* unresolved operands (result -1) refer to these by index */
	int nnames;
	bool pattern_failed; /* a pattern line did not parse: skip name checks */
	bool oom;
	const eng_func *fn;  /* compiling this function's body (references allowed); NULL: a rule */
} eng_cc;

typedef struct eng_rule_src { /* the YAML texts of one rule */
	const eng_text *pattern, *replace; /* replace NULL when absent */
	const eng_text *where;
	int nwhere;
} eng_rule_src;

/* Compiles pattern, where and replace into r, reporting every error;
 * false when there was one.  r's metadata is filled by the caller. */
bool eng_compile_rule(eng_ruleset *rs, eng_rule *r, const eng_rule_src *src, ir_diags *d);
void eng_cc_error(eng_cc *cc, eng_loc at, const char *fmt, ...) IR_PRINTF(3, 4);
/* Reports an out-of-memory error once; returns NULL for `return` chaining. */
void *eng_cc_oom(eng_cc *cc, eng_loc at);
/* "elementwise", ... for a single trait bit; NULL for other values. */
const char *eng_class_name(unsigned bit);
/* Index of a pattern node defining result `name` (*result: which), or -1. */
int eng_pnode_by_name(const eng_rule *r, const char *name, size_t n, int *result);
int eng_capture_by_name(const eng_rule *r, const char *name, size_t n);
/* Records `name` (`.N`: result) as a pending reference; its index or -1. */
int eng_pending_add(eng_cc *cc, const char *name, size_t len, int result, eng_loc at);
/* Reads `[DOMAIN '::']` before an op name; *domain NULL for the default
 * domain.  False after reporting a syntax error. */
bool eng_parse_domain(eng_cc *cc, eng_lexer *lx, const char **domain);
/* Is the current token the start of an op term (`Op(`, `a.b::Op`, ...)? */
bool eng_at_term(const eng_lexer *lx);
/* results '=': up to max names (and locations); the count, or -1 after a
 * syntax error. */
int eng_parse_results(eng_cc *cc, eng_lexer *lx, const char **names, eng_loc *locs, int max);
void eng_skip_line(eng_lexer *lx);
/* Moves over newlines when the token after them is `punct`. */
void eng_skip_newlines_before(eng_lexer *lx, int punct);

/* ---- rules_check.c: the registry, pattern structure */
/* Checks an op name: registered, or in a non-default domain. */
void eng_check_op(eng_cc *cc, const char *domain, const char *name, eng_loc at);
/* The registry's operand and result counts over every entry named
 * `name` (default domain); false when it is not registered. */
bool eng_op_arity(const char *name, int *min_in, int *max_in, int *max_out);
/* Attribute `attr` of the registered ops `ops` (default domain): 1 when
 * some op defines it (*kind: its kind, IR_ATTR_UNDEF when they disagree),
 * 0 when none does (*suggest: a close attribute name or NULL), -1 when not
 * decidable (another domain or an unregistered op). */
int eng_ops_attr(const char *domain, const char *const *ops, int nops, const char *attr, ir_attr_kind *kind,
		 const char **suggest);
/* How many results a reference to pattern node p may index. */
int eng_pnode_result_limit(const eng_pnode *p);
bool eng_is_chain(const eng_pnode *p);
/* A parsed pattern term: operand shapes, counts against the registry, and
 * its commutative flag. */
void eng_check_term(eng_cc *cc, int p);
/* requires: every pattern line parsed.  Resolves operand names, checks
 * cycles, connectivity and attribute checks. */
void eng_check_pattern(eng_cc *cc);
/* requires: replacement names resolved.  Sorts rnodes so that operands
 * come before users (remapping every RO_RNODE) and names anonymous ones;
 * reports a cycle. */
void eng_order_rnodes(eng_cc *cc);
/* Computed attributes against the registry (names and kinds). */
void eng_check_rattrs(eng_cc *cc, const eng_rnode *rn);
/* Every pattern sink is replaced, unless the replacement is empty. */
void eng_check_sinks(eng_cc *cc);

/* ---- rules_replace.c */
/* requires: the pattern compiled (names resolved unless pattern_failed).
 * Parses the replacement lines (t NULL: none) into r->rnodes/outputs,
 * resolves their names, orders rnodes, checks expressions and attributes,
 * and that every pattern sink is replaced. */
void eng_compile_replace(eng_cc *cc, const eng_text *t);
/* A function body (cc->fn set, cc->r a rule without pattern whose captures
 * are the formal inputs): the replacement lines, then each of the nouts
 * output names (at locs) resolved into outs[]. */
void eng_compile_body(eng_cc *cc, const eng_text *t, const char *const *outs, const eng_loc *locs, int nouts,
		      eng_roperand *out_ops);

/* ---- rules_func.c */
typedef struct eng_func_src { /* the YAML of one function */
	const char *name, *doc;
	eng_loc loc, inputs_loc, outputs_loc;
	const eng_text *body;
	const char **inputs, **outputs;
	eng_loc *input_locs, *output_locs;
	int ninputs, noutputs;
	const eng_text *attrs; /* one text per declared attribute: `name` or `name = expr` */
	int nattrs;
} eng_func_src;
/* Compiles and builds a function and adds it to rs; false (reported) on error. */
bool eng_func_load(eng_ruleset *rs, const eng_func_src *src, ir_diags *d);
/* The function rs defines as (domain, name) (domain NULL: default), or NULL. */
const eng_func *eng_func_find(const eng_ruleset *rs, const char *domain, const char *name);
/* Frees the functions of rs from index `from` on (a file that failed). */
void eng_funcs_drop(eng_ruleset *rs, size_t from);
/* Copies f into g unless g already has a function of that name; false
 * (reason in why) when its body does not hold at g's opsets. */
bool eng_func_install(ir_graph *g, const eng_func *f, char *why, size_t why_n);

/* ---- expr_parse.c, expr_check.c */
typedef enum {
	ECTX_WHERE,      /* a `where:` constraint: bool */
	ECTX_MATCH_ATTR, /* a pattern attribute's expected value */
	ECTX_SET_ATTR,   /* a replacement's computed attribute */
	ECTX_OPERAND     /* a replacement operand: fill(...) or const(...) */
} eng_ex_ctx;

/* Parses an expression at the current token (names resolved later by
 * eng_check_expr); NULL after reporting a syntax error. */
eng_ex *eng_parse_expr(eng_cc *cc, eng_lexer *lx);
const char *eng_fn_name(eng_fn f);
/* Resolves names and checks types for the context (an attribute value also
 * against the registry's kind `want`, IR_ATTR_UNDEF when unknown); reports
 * every error. */
bool eng_check_expr(eng_cc *cc, eng_ex *e, eng_ex_ctx ctx, ir_attr_kind want);

/* ---- rules_dump.c */
void eng_ex_print(const eng_ex *e, const eng_rule *r, FILE *out);

/* ---- expr_eval.c, expr_builtin.c, expr_const.c: evaluation internals */
typedef struct eng_evalctx {
	const ir_graph *g;
	const eng_binding *b;
	eng_scratch *s;
	char *why;
	size_t why_n;
} eng_evalctx;

/* Writes the reason into c->why; returns false. */
bool eng_eval_fail(eng_evalctx *c, const char *fmt, ...) IR_PRINTF(2, 3);
bool eng_eval_in(eng_evalctx *c, const eng_ex *e, eng_ev *out);
/* A list of n zeroed items in the scratch (false: out of memory, reported). */
bool eng_eval_list(eng_evalctx *c, eng_ev *out, size_t n);
/* EX_CALL except fill/const. */
bool eng_eval_builtin(eng_evalctx *c, const eng_ex *e, eng_ev *out);

#endif
