"""What an assignment and a course folder are:
declarations, prepared cases, a student's submission.
"""
