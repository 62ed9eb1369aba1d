"""The catalogue of diagnostic codes: stable identifiers with zh/en messages and hints.

Codes never change meaning once published (docs/errors.md lists them). E1xx files and
schema, E2xx expression syntax and limits, E3xx names, E4xx types, E5xx cycles,
E6xx decision tables, E7xx parameters (E72x: arithmetic bounds), E8xx facts and evaluation
(E82x: bounded input), W9xx warnings.
"""
from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    """Message and optional hint templates, each a {"zh": …, "en": …} pair."""

    title: str
    message: dict
    hint: dict | None = None


def _c(title, zh, en, hint_zh=None, hint_en=None) -> Code:
    hint = {"zh": hint_zh, "en": hint_en} if hint_zh else None
    return Code(title, {"zh": zh, "en": en}, hint)


CODES: dict[str, Code] = {
    # --- files and schema
    "E101": _c("yaml-syntax", "YAML 语法错误：{detail}", "YAML syntax error: {detail}",
               "检查缩进和冒号", "check indentation and colons"),
    "E102": _c("yaml-alias", "不允许使用 YAML 锚点或别名", "YAML anchors and aliases are not allowed",
               "把内容直接写出来；别名可被用来构造指数膨胀的文件", "write the content out; aliases allow exponential blow-up"),
    "E103": _c("schema", "{detail}", "{detail}"),
    "E104": _c("duplicate", "名称 `{name}` 重复定义（首次定义于 {first}）",
               "`{name}` is declared twice (first at {first})", "每个名称在整个政策中只能定义一次",
               "a name is declared once in the whole policy"),
    "E105": _c("citation", "来源引用 `{cite}` 无效：{detail}", "invalid source citation `{cite}`: {detail}",
               "写成 \"文件号:行\" 或 \"文件号:起-止\"，文件号须在 documents 中声明",
               "write \"DOC:LINE\" or \"DOC:FIRST-LAST\" with DOC declared under documents"),
    "E106": _c("citation-line", "引用的行 {lines} 超出文件 {doc} 的范围（共 {count} 行）",
               "cited lines {lines} are outside document {doc} ({count} lines)"),
    "E107": _c("file", "无法读取 {path}：{detail}", "cannot read {path}: {detail}"),
    "E108": _c("variant-base", "变体 `{name}` 的基础 `{base}` 不存在或形成循环",
               "variant `{name}` extends `{base}`, which does not exist or forms a cycle"),
    "E109": _c("variant-target", "变体覆盖的{kind} `{name}` 在基础政策中不存在",
               "the variant overrides {kind} `{name}`, which the base does not have",
               "{suggestion}", "{suggestion}"),
    # --- expression syntax and limits
    "E201": _c("syntax", "表达式语法错误：意外的 {found}", "syntax error: unexpected {found}",
               "此处应为 {expected}", "expected {expected}"),
    "E202": _c("syntax-eof", "表达式不完整", "incomplete expression", "此处应为 {expected}", "expected {expected}"),
    "E205": _c("too-deep", "表达式嵌套过深（超过 {limit} 层）", "expression nests too deep (more than {limit} levels)",
               "拆成几条中间规则（internal: true）", "split it into intermediate rules (internal: true)"),
    "E206": _c("too-large", "表达式过大：{detail}", "expression too large: {detail}",
               "拆成几条中间规则", "split it into intermediate rules"),
    "E207": _c("condition-syntax", "决策表条件 `{text}` 无法识别", "decision-table condition `{text}` is not understood",
               "可写 true/false、枚举值、{{a, b}}、\"< 5000\"、\"[5000, 10000)\" 或 any",
               "write true/false, an enum value, {{a, b}}, \"< 5000\", \"[5000, 10000)\" or any"),
    "E208": _c("round-places", "round 的位数 `{value}` 须为 0 到 {limit} 的整数字面量",
               "round's places `{value}` must be an integer literal from 0 to {limit}",
               "数值最多保留 20 位小数；金额通常 round(x, 2)", "numbers keep at most 20 decimals; money usually round(x, 2)"),
    # --- names
    "E301": _c("undefined", "未定义的名称 `{name}`", "undefined name `{name}`",
               "是否想写 `{suggestion}`？", "did you mean `{suggestion}`?"),
    "E302": _c("unknown-type", "未知的类型或实体 `{name}`", "unknown type or entity `{name}`",
               "是否想写 `{suggestion}`？", "did you mean `{suggestion}`?"),
    "E303": _c("not-children", "`{name}` 不是子实体列表，不能汇总", "`{name}` is not a list of child entities",
               "汇总只能作用于 list 字段，例如 members", "aggregations run over list fields such as members"),
    "E304": _c("enum-value", "`{value}` 不是枚举 `{enum}` 的取值", "`{value}` is not a value of enum `{enum}`",
               "可选值：{values}", "values: {values}"),
    "E305": _c("function", "函数 `{name}` {detail}", "function `{name}` {detail}",
               "可用函数：{functions}", "functions: {functions}"),
    "E306": _c("parent", "`{name}` 不是 `{entity}` 的上级实体", "`{name}` is not an ancestor of `{entity}`"),
    "E307": _c("report-name", "实体 `{entity}` 的报表 `{key}` 指向不存在的{kind} `{name}`",
               "the report of `{entity}`: `{key}` names {kind} `{name}`, which `{entity}` does not have",
               "是否想写 `{suggestion}`？", "did you mean `{suggestion}`?"),
    "E308": _c("parent-key", "实体 `{entity}` 的 parent_key：{detail}", "entity `{entity}`, parent_key: {detail}"),
    "E309": _c("default-entity", "实体 `{name}` 也声明为 default，已有 `{first}`",
               "entity `{name}` is declared default too; `{first}` already is",
               "只能有一个默认实体（未指明实体时评估的那一个）", "one entity at most is the default (evaluated when a call names none)"),
    # --- types
    "E401": _c("type", "类型错误：{detail}", "type error: {detail}"),
    "E402": _c("not-bool", "条件须为 bool，此处为 {type}", "a condition must be bool, not {type}"),
    "E403": _c("rule-type", "规则 `{name}` 声明为 {declared}，表达式的类型却是 {actual}",
               "rule `{name}` is declared {declared} but its expression is {actual}"),
    "E404": _c("compare", "不能比较 {left} 与 {right}", "cannot compare {left} with {right}",
               "金额、比率、布尔值和枚举值彼此不能比较", "money, ratios, booleans and enum values do not compare with each other"),
    "E405": _c("param-type", "参数 `{name}` 的值 `{value}` 不是 {type}", "parameter `{name}`: value `{value}` is not {type}"),
    "E406": _c("report-type", "报表中的 `{name}` 是 {type}，此处应为 {expected}",
               "`{name}` in the report is {type}; expected {expected}"),
    "E407": _c("unit", "单位不同，不能比较：`{left}` 是 {ltype}，`{right}` 是 {rtype}",
               "units differ: `{left}` is {ltype} and `{right}` is {rtype}"),
    # --- cycles
    "E501": _c("cycle", "规则循环依赖：{path}", "rules depend on each other in a cycle: {path}",
               "打断循环：其中一条规则不能引用另一条", "break the cycle: one of these rules must not use the other"),
    # --- decision tables
    "E601": _c("table-gap", "决策表 `{name}` 有缺口：没有任何行匹配 {example}",
               "decision table `{name}` has a gap: no row matches {example}",
               "补一行覆盖这种情形，或把最后一行的条件写成 any", "add a row for this case, or make the last row's conditions any"),
    "E602": _c("table-overlap", "决策表 `{name}`（unique）第 {a} 行与第 {b} 行同时匹配 {example}",
               "decision table `{name}` (unique): rows {a} and {b} both match {example}",
               "收窄其中一行的条件，或改用 first/priority", "narrow one row, or use hit policy first/priority"),
    "E603": _c("table-input", "决策表行使用了未声明的输入 `{name}`", "a row uses undeclared input `{name}`",
               "是否想写 `{suggestion}`？", "did you mean `{suggestion}`?"),
    "E604": _c("table-policy", "决策表 `{name}`：{detail}", "decision table `{name}`: {detail}"),
    # --- parameters
    "E701": _c("param-date", "参数 `{name}` 在 {date} 没有有效值{detail}", "parameter `{name}` has no value in force on {date}{detail}",
               "为该日期补充参数值，或换一个评估日期（--on）", "add a value for that date, or evaluate on another date (--on)"),
    "E702": _c("param-values", "参数 `{name}`：{detail}", "parameter `{name}`: {detail}"),
    "E703": _c("arith-bounds", "`{text}` 可能超出数值界限：按声明的取值范围最大可达 {bound}",
               "`{text}` can go beyond the number bounds: by the declared ranges it reaches {bound}",
               "界限为绝对值 10^15；检查常数和参数的位数，或为字段声明 min/max",
               "the bound is |x| ≤ 10^15: check the digits of constants and parameters, or declare the fields' min/max"),
    # --- bounded arithmetic (engine/core/operators.py)
    "E720": _c("number-limit", "`{text}` 的结果超出数值界限（{detail}）", "`{text}`: the result is beyond the number bounds ({detail})",
               "检查输入是否有误；界限为绝对值 10^15", "check the inputs; the bound is |x| ≤ 10^15"),
    # --- facts and evaluation
    "E801": _c("fact-missing", "{entity} `{id}`：缺少必填字段 `{path}`", "{entity} `{id}`: required field `{path}` is missing"),
    "E802": _c("fact-type", "{entity} `{id}`：字段 `{path}` 应为 {expected}，实际为 `{value}`",
               "{entity} `{id}`: field `{path}` should be {expected}, got `{value}`"),
    "E803": _c("fact-range", "{entity} `{id}`：字段 `{path}` 的值 `{value}` {detail}",
               "{entity} `{id}`: field `{path}` value `{value}` {detail}"),
    "E804": _c("facts-file", "事实数据无效：{detail}", "invalid facts: {detail}"),
    "E805": _c("exception-conflict", "规则 `{name}` 的例外 {ids} 同时成立且取值不同",
               "exceptions {ids} of rule `{name}` both hold with different values"),
    "E806": _c("empty-aggregate", "`{fn}` 作用于空集合", "`{fn}` over an empty collection"),
    "E807": _c("division-by-zero", "除数为零：{text}", "division by zero: {text}"),
    "E808": _c("no-row", "决策表 `{name}` 没有行匹配：{example}", "no row of decision table `{name}` matches: {example}"),
    "E809": _c("unique-violated", "决策表 `{name}`（unique）有多行匹配：{rows}", "decision table `{name}` (unique): several rows match: {rows}"),
    "E810": _c("limit", "超出限制：{detail}", "limit exceeded: {detail}"),
    "E811": _c("unknown-output", "没有名为 `{name}` 的输出", "no output named `{name}`",
               "是否想写 `{suggestion}`？", "did you mean `{suggestion}`?"),
    "E812": _c("unknown-variant", "没有名为 `{name}` 的变体", "no variant named `{name}`", "可选：{choices}", "choices: {choices}"),
    "E814": _c("no-entity", "未指明实体，且政策未声明默认实体", "no entity named, and the policy declares no default entity",
               "可选：{choices}（或在 entities 中为一个实体写 default: true）",
               "choices: {choices} (or declare one entity `default: true`)"),
    # --- batch input formats and outputs (engine/batch: encoding.py, excel.py, outputs.py)
    "E830": _c("input-encoding", "输入不是 {encoding} 编码的文本：{detail}", "the input is not text in {encoding}: {detail}",
               "用 --encoding 指明编码（如 gb18030、utf-8）", "name the encoding with --encoding (e.g. gb18030, utf-8)"),
    "E831": _c("output-write", "无法写入输出 `{path}`：{detail}", "cannot write the output `{path}`: {detail}",
               "检查磁盘空间和目录权限；未留下不完整的输出文件", "check the free space and the folder's permissions; no partial output was left"),
    "E832": _c("workbook", "无法读取工作簿：{detail}", "cannot read the workbook: {detail}"),
    "E833": _c("batch-stopped", "批处理中途停止：{detail}", "the batch stopped early: {detail}",
               "已读入的行未写出；结果文件未生成", "rows read so far were not written; no result file was made"),
    "E813": _c("test-failed", "测试 `{name}`：{detail}", "test `{name}`: {detail}"),
    # --- facts: no silent facts (issue 11)
    "E815": _c("fact-unknown-field", "{entity} `{id}`：字段 `{path}` 未在实体中声明",
               "{entity} `{id}`: field `{path}` is not declared by the entity",
               "是否想写 `{suggestion}`？（确需忽略未声明字段时用 --allow-unknown-fields）",
               "did you mean `{suggestion}`? (to ignore undeclared fields: --allow-unknown-fields)"),
    "E816": _c("list-not-given", "没有给出 `{path}`（{child}）：{detail}", "no `{path}` given ({child}): {detail}",
               "加上 --join {name}=FILE；若确实没有这些数据，在政策中为该列表字段写 optional: true",
               "add --join {name}=FILE; if there really is no such data, declare the list field optional: true"),
    "E817": _c("wrong-entity", "{entity} `{id}`：这些事实像是 `{name}` 的（{fields}），不是 `{expected}` 的",
               "{entity} `{id}`: these facts look like `{name}` ({fields}), not `{expected}`",
               "按 `{name}` 评估：--entity {name}（API：entity=\"{name}\"）",
               "evaluate them as `{name}`: --entity {name} (API: entity=\"{name}\")"),
    "E818": _c("enum-label-ambiguous", "枚举 `{enum}`：标签 `{label}` 可指 `{first}` 也可指 `{second}`",
               "enum `{enum}`: the label `{label}` could mean `{first}` or `{second}`",
               "事实中的标签会换成取值，须只指一个取值：改写其中一个标签",
               "labels in facts are read as values and must name one value: reword one of the labels"),
    "E819": _c("no-date", "未指明评估日期，且政策未声明默认日期", "no as-of date given, and the policy declares no default date",
               "用 --on YYYY-MM-DD（API：on=…），或在政策中声明 defaults: {{on: YYYY-MM-DD}}",
               "give --on YYYY-MM-DD (API: on=…), or declare defaults: {{on: YYYY-MM-DD}} in the policy"),
    # --- bounded input (dsl/coerce.py, dsl/yamlsrc.py)
    "E820": _c("number-bounds", "{entity} `{id}`：字段 `{path}` 的值 `{value}` 超出数值界限：应为{expected}",
               "{entity} `{id}`: field `{path}` value `{value}` is beyond the number bounds: expected {expected}"),
    "E821": _c("yaml-tag", "不允许使用 YAML 标签 `{tag}`", "YAML tag `{tag}` is not allowed",
               "只接受 YAML 核心类型（字符串、整数、小数、布尔、null、列表、映射）；去掉标签",
               "only the YAML core schema (str, int, float, bool, null, seq, map) is read; remove the tag"),
    "E822": _c("number-literal", "数字 `{value}` 超出数值界限（绝对值不超过 10^15、小数不超过 20 位）",
               "the number `{value}` is beyond the number bounds (|x| ≤ 10^15, at most 20 decimals)",
               "政策中的数额不会这么大；检查是否多写了位数", "no amount in a policy is this large; check the digits"),
    # --- warnings
    "W901": _c("unused-parameter", "参数 `{name}` 未被任何规则使用", "parameter `{name}` is not used by any rule"),
    "W902": _c("gap", "参数 `{name}` 自 {date} 起在来源中没有金额：{detail}",
               "parameter `{name}` has no amount in its source from {date}: {detail}",
               "依赖它的规则将得到“未知”，并指出此参数", "rules that need it evaluate to unknown, naming it"),
    "W903": _c("no-source", "{kind} `{name}` 没有来源引用", "{kind} `{name}` has no source citation",
               "加上 source: \"文件号:行\"", "add source: \"DOC:LINE\""),
    "W904": _c("unused-rule", "内部规则 `{name}` 未被使用", "internal rule `{name}` is not used"),
    "W905": _c("document-missing", "找不到文件 {doc} 的原文 {path}，无法核对行号",
               "the text of document {doc} ({path}) is not found; lines not verified"),
    "W906": _c("fact-undeclared", "{entity} `{id}`：字段 `{path}` 未在实体中声明，已忽略{guess}",
               "{entity} `{id}`: field `{path}` is not declared by the entity; ignored{guess}"),
    "W907": _c("shadow", "名称 `{name}` 既是字段/规则又是枚举值，按字段/规则解释",
               "`{name}` is both a field/rule and an enum value; read as the field/rule"),
}
