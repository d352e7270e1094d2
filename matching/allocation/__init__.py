"""Joint allocation of winning designs across factories with shared capacity: exact MILP and a large-instance heuristic."""

from matching.allocation.exact import LpSolution, solve_exact, solve_lp
from matching.allocation.heuristic import LaneSource, solve_heuristic
from matching.allocation.problem import Allocation, AllocationProblem, AllocationRow, Unplaced

__all__ = ["Allocation", "AllocationProblem", "AllocationRow", "LaneSource", "LpSolution", "Unplaced",
           "solve_exact", "solve_heuristic", "solve_lp"]
