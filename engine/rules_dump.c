/* Printing compiled rules (eng_rule_dump) and expressions, in the rule
 * language's own syntax where it has one, with source positions. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* ---------------------------------------------------------------- expressions */

static const char *const binop_text[] = {"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};

/* Binding strength: ?: 0, || 1, && 2, ! 3, comparisons 4, + - 5, * / % 6, unary - 7, primaries 8. */
static int prec(const eng_ex *e)
{
	switch (e->kind) {
	case EX_COND: return 0;
	case EX_UNARY: return e->op == '!' ? 3 : 7;
	case EX_BINARY:
		switch ((eng_binop)e->op) {
		case OP_OR: return 1;
		case OP_AND: return 2;
		case OP_ADD:
		case OP_SUB: return 5;
		case OP_MUL:
		case OP_DIV:
		case OP_MOD: return 6;
		default: return 4;
		}
	default: return 8;
	}
}

static void print_sub(const eng_ex *e, const eng_rule *r, int min, FILE *out)
{
	bool paren = prec(e) < min;
	fputs(paren ? "(" : "", out);
	eng_ex_print(e, r, out);
	fputs(paren ? ")" : "", out);
}

static void print_string(const char *s, size_t n, FILE *out)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fputc('\\', out);
		if (s[i] == '\n')
			fputs("\\n", out);
		else
			fputc(s[i], out);
	}
	fputc('"', out);
}

static void print_float(double f, FILE *out)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%.15g", f);
	if (strtod(buf, NULL) != f)
		snprintf(buf, sizeof buf, "%.17g", f);
	if (!strpbrk(buf, ".eEn")) /* keep it a float: 1 -> 1.0 (not inf/nan) */
		strcat(buf, ".0");
	fputs(buf, out);
}

static void print_args(const eng_ex *e, const eng_rule *r, FILE *out)
{
	for (int i = 0; i < e->nargs; i++) {
		fputs(i ? ", " : "", out);
		eng_ex_print(e->args[i], r, out);
	}
}

static void print_binary(const eng_ex *e, const eng_rule *r, FILE *out)
{
	int p = prec(e);
	/* comparisons do not chain: both sides bind tighter */
	print_sub(e->args[0], r, p == 4 ? 5 : p, out);
	fprintf(out, " %s ", binop_text[e->op]);
	print_sub(e->args[1], r, p + 1, out);
}

void eng_ex_print(const eng_ex *e, const eng_rule *r, FILE *out)
{
	switch (e->kind) {
	case EX_INT: fprintf(out, "%lld", (long long)e->i); break;
	case EX_FLOAT: print_float(e->f, out); break;
	case EX_STRING: print_string(e->s, e->s_len, out); break;
	case EX_BOOL: fputs(e->i ? "true" : "false", out); break;
	case EX_NONE: fputs("none", out); break;
	case EX_LIST:
		fputc('[', out);
		print_args(e, r, out);
		fputc(']', out);
		break;
	case EX_CAPTURE:
		fprintf(out, "$%s", r && e->ref >= 0 ? r->captures[e->ref].name : e->s);
		break;
	case EX_NODE: fputs(r && e->ref >= 0 ? r->pnodes[e->ref].name : e->s, out); break;
	case EX_CALL:
		fprintf(out, "%s(", eng_fn_name(e->fn));
		print_args(e, r, out);
		fputc(')', out);
		break;
	case EX_UNARY:
		fputc(e->op, out);
		print_sub(e->args[0], r, prec(e), out);
		break;
	case EX_BINARY: print_binary(e, r, out); break;
	case EX_COND:
		print_sub(e->args[0], r, 1, out);
		fputs(" ? ", out);
		print_sub(e->args[1], r, 1, out);
		fputs(" : ", out);
		print_sub(e->args[2], r, 0, out);
		break;
	}
}

/* ---------------------------------------------------------------- patterns */

static void print_opmatch(const eng_pnode *p, FILE *out)
{
	switch (p->opkind) {
	case OPM_NAMES:
		if (p->domain)
			fprintf(out, "%s::", p->domain);
		for (int i = 0; i < p->nnames; i++)
			fprintf(out, "%s%s", i ? "|" : "", p->names[i]);
		break;
	case OPM_REGEX: fprintf(out, "/%s/", p->nnames ? p->names[0] : "?"); break;
	case OPM_CLASS: {
		const char *sep = "@";
		for (unsigned bit = 1; bit; bit <<= 1)
			if ((p->traits & bit) && eng_class_name(bit)) {
				fprintf(out, "%s%s", sep, eng_class_name(bit));
				sep = "+";
			}
		break;
	}
	case OPM_ANY: fputc('*', out); break;
	}
	if (p->min_repeat != 1 || p->max_repeat != 1)
		fprintf(out, "[%d..%d]", p->min_repeat, p->max_repeat);
}

static void print_operand(const eng_rule *r, const eng_operand *o, FILE *out)
{
	switch (o->kind) {
	case PO_CAPTURE:
		fprintf(out, "$%s%s", r->captures[o->index].name, o->variadic ? "..." : o->optional ? "?" : "");
		break;
	case PO_WILDCARD: fputs(o->optional ? "_?" : "_", out); break;
	case PO_NODE:
		fputs(r->pnodes[o->index].name, out);
		if (o->result)
			fprintf(out, ".%d", o->result);
		break;
	}
}

static void print_pnode(const eng_rule *r, int i, FILE *out)
{
	const eng_pnode *p = &r->pnodes[i];
	fprintf(out, "    p%d ", i);
	for (int k = 0; k < p->nresults; k++)
		fprintf(out, "%s%s", k ? ", " : "", p->result_names[k]);
	fputs(" = ", out);
	print_opmatch(p, out);
	fputc('(', out);
	for (int k = 0; k < p->nins; k++) {
		fputs(k ? ", " : "", out);
		print_operand(r, &p->ins[k], out);
	}
	fputc(')', out);
	for (int k = 0; k < p->nattrs; k++) {
		fprintf(out, "%s%s == ", k ? ", " : " {", p->attrs[k].name);
		eng_ex_print(p->attrs[k].value, r, out);
	}
	fprintf(out, "%s%s  @%d:%d\n", p->nattrs ? "}" : "", p->commutative ? "  commutative" : "", p->loc.line,
		p->loc.col);
}

/* ---------------------------------------------------------------- replacements */

static void print_roperand(const eng_rule *r, const eng_roperand *o, FILE *out)
{
	switch (o->kind) {
	case RO_CAPTURE:
		fprintf(out, "$%s", o->index >= 0 ? r->captures[o->index].name : "?");
		break;
	case RO_PNODE:
		fprintf(out, "%s", o->result >= 0 ? r->pnodes[o->index].name : "?");
		if (o->result > 0)
			fprintf(out, ".%d", o->result);
		break;
	case RO_RNODE:
		fprintf(out, "r%d", o->index);
		if (o->result)
			fprintf(out, ".%d", o->result);
		break;
	case RO_NONE: fputc('_', out); break;
	case RO_EXPR: eng_ex_print(o->expr, r, out); break;
	}
	if (o->fallback) {
		fputs(" ?? ", out);
		print_roperand(r, o->fallback, out);
	}
}

static void print_rnode(const eng_rule *r, int i, FILE *out)
{
	const eng_rnode *n = &r->rnodes[i];
	fprintf(out, "    r%d ", i);
	for (int k = 0; k < n->nresults; k++)
		fprintf(out, "%s%s", k ? ", " : "", n->result_names ? n->result_names[k] : n->name);
	fprintf(out, " = %s%s%s(", n->domain ? n->domain : "", n->domain ? "::" : "", n->op);
	for (int k = 0; k < n->nins; k++) {
		fputs(k ? ", " : "", out);
		print_roperand(r, &n->ins[k], out);
	}
	fputc(')', out);
	for (int k = 0; k < n->nattrs; k++) {
		fputs(k ? ", " : " {", out);
		if (n->attrs[k].name) {
			fprintf(out, "%s = ", n->attrs[k].name);
			eng_ex_print(n->attrs[k].value, r, out);
		} else {
			fprintf(out, "...%s", r->pnodes[n->attrs[k].spread_node].name);
		}
	}
	fprintf(out, "%s  @%d:%d\n", n->nattrs ? "}" : "", n->loc.line, n->loc.col);
}

/* ---------------------------------------------------------------- rules */

static void print_header(const eng_rule *r, FILE *out)
{
	fprintf(out, "rule %s  (%s)\n", r->name, r->loc_text);
	fprintf(out, "  phase %d, benefit %d, %s", r->phase, r->benefit, r->exact ? "exact" : "inexact");
	if (!r->exact)
		fprintf(out, " (tolerance %g)", r->tolerance);
	fprintf(out, "%s%s%s\n", r->when_cheaper ? ", when cheaper" : "", r->allow_escape ? ", allow_escape" : "",
		r->enabled ? "" : ", disabled");
	if (r->doc && r->doc[0])
		fprintf(out, "  doc: %.*s\n", (int)strcspn(r->doc, "\n"), r->doc);
	fputs("  captures:", out);
	for (int i = 0; i < r->ncaptures; i++)
		fprintf(out, " $%s%s", r->captures[i].name, r->captures[i].is_list ? "..." : "");
	fputs(r->ncaptures ? "\n" : " none\n", out);
}

/* The back end's matching plan (match_plan.c), when computed. */
static void print_plan(const eng_rule *r, FILE *out)
{
	if (!r->order)
		return;
	fprintf(out, "  plan: root p%d, order", r->root);
	for (int i = 0; i < r->npnodes; i++)
		fprintf(out, " p%d", r->order[i]);
	fputs(", sinks", out);
	for (int i = 0; i < r->nsinks; i++)
		fprintf(out, " p%d", r->sinks[i]);
	fputc('\n', out);
	for (int i = 0; r->where_step && i < r->nwhere; i++)
		fprintf(out, "    where w%d after step %d\n", i, r->where_step[i]);
}

void eng_rule_dump(const eng_rule *r, FILE *out)
{
	print_header(r, out);
	fputs("  pattern:\n", out);
	for (int i = 0; i < r->npnodes; i++)
		print_pnode(r, i, out);
	if (r->nwhere)
		fputs("  where:\n", out);
	for (int i = 0; i < r->nwhere; i++) {
		fprintf(out, "    w%d ", i);
		eng_ex_print(r->where[i], r, out);
		fprintf(out, "  @%d:%d\n", r->where[i]->loc.line, r->where[i]->loc.col);
	}
	fputs(r->nrnodes || r->noutputs ? "  replace:\n" : "  replace: (none: deletes dead code)\n", out);
	for (int i = 0; i < r->nrnodes && !r->fuse_op; i++)
		print_rnode(r, i, out);
	if (r->fuse_op)
		fprintf(out, "    r0 fuse %s::%s: the matched nodes become its body, their other operands its inputs\n",
			r->fuse_domain, r->fuse_op);
	for (int i = 0; i < r->noutputs; i++) {
		const eng_output_map *m = &r->outputs[i];
		fprintf(out, "    %s <- ", r->pnodes[m->pnode].result_names[m->presult]);
		print_roperand(r, &m->with, out);
		fputc('\n', out);
	}
	print_plan(r, out);
}
