"""Assignments and the exam itself: papers, saving answers, grading, hand-in, key corrections."""
