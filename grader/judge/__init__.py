"""The judge: drives a runner through an assignment's cases, compares, scores and explains."""
