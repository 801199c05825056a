package tmpl

import (
	"errors"
	"fmt"
	"strings"
)

// ErrLineTooLong stops a template whose output, or a value built on the way
// to it, passes MaxLineSize.
var ErrLineTooLong = fmt.Errorf("the line is longer than %d bytes", MaxLineSize)

// errEvalBudget stops one evaluation that builds more text than any line
// needs, in values no longer than a line each.
var errEvalBudget = fmt.Errorf("the template builds more than %d bytes of text; a line holds at most %d", maxEvalBytes, MaxLineSize)

// Budget is what all the template evaluations of one patch may spend; the
// zero Budget is a fresh one.
type Budget struct {
	steps, bytes int
	// spent is set once the budget is passed: the template that passed it
	// has the message, and every later one fails with ErrBudgetSpent,
	// to be left unreported rather than add a message per section.
	spent bool
}

// ErrBudgetSpent fails the templates that run after the patch's budget is
// spent.
var ErrBudgetSpent = errors.New("the templates of this patch spent their budget")

// start charges the nodes of a template about to run, the most it can visit.
func (p *Budget) start(nodes int) error {
	if p.spent {
		return ErrBudgetSpent
	}
	p.steps += nodes
	if p.steps > maxPatchSteps {
		p.spent = true
		return fmt.Errorf("the templates of this patch visit more than %d steps (too many templated lines times the sections they edit)", maxPatchSteps)
	}
	return nil
}

// spend charges n bytes of built text.
func (p *Budget) spend(n int) error {
	if p.spent {
		return ErrBudgetSpent
	}
	p.bytes += n
	if p.bytes > maxPatchBytes {
		p.spent = true
		return fmt.Errorf("the templates of this patch build more than %d bytes of text (too many templated lines times the sections they edit)", maxPatchBytes)
	}
	return nil
}

// evalBudget is what one evaluation may spend; every value a function
// builds is charged to it and to the patch's budget.
type evalBudget struct {
	bytes int
	patch *Budget
}

// spend charges a value of n bytes about to be built: one longer than a
// line is refused before it is built, as is one past the budgets.
func (e *evalBudget) spend(n int) error {
	if n > MaxLineSize {
		return ErrLineTooLong
	}
	e.bytes += n
	if e.bytes > maxEvalBytes {
		return errEvalBudget
	}
	if e.patch != nil {
		return e.patch.spend(n)
	}
	return nil
}

// limitedBuffer is a strings.Builder that refuses to grow past MaxLineSize.
type limitedBuffer struct{ strings.Builder }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxLineSize {
		return 0, ErrLineTooLong
	}
	return b.Builder.Write(p)
}
