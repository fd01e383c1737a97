"""What every spreadsheet import reports: each bad row by number and column, and a refusal that stores nothing."""

from __future__ import annotations

from dataclasses import dataclass

from .. import ServiceError


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message}" if self.column else f"第 {self.row} 行：{self.message}"


class ImportRejected(ServiceError):
    """The file was refused whole; `errors` names every problem, in Chinese."""

    def __init__(self, errors: list[RowError] | list[str]):
        self.errors = [str(e) for e in errors]
        super().__init__(f"导入未执行：发现 {len(self.errors)} 处问题，请修改后重新上传")
