"""The workbench's words in Chinese and English, and the language of a page.

A page's language is ``?lang=`` (which also sets the ``fupin_lang`` cookie), else that
cookie, else the service's default (Chinese unless ``fupin serve --lang en``). The
browser's Accept-Language is not consulted: officers share machines set up in English.
"""
from __future__ import annotations

from fastapi import Request

COOKIE = "fupin_lang"

WORDS = {
    "zh": {
        "app": "扶贫政策工作台", "home": "首页", "policy": "政策文本", "household": "农户评估", "dataset": "数据集",
        "impact": "政策影响", "edit": "规则编辑", "login": "登录", "switch": "English", "token": "访问令牌",
        "sign_in": "登录", "bad_token": "令牌不对", "revision": "版本", "loaded_at": "加载时间",
        "home_intro": "政策规则、农户的决策与原因、全县的情况和政策变化的影响，都在这里查看。",
        "search": "搜索", "search_label": "按名称或标签搜索规则和参数", "files": "规则文件", "rules": "规则",
        "params": "参数", "no_match": "没有匹配的规则或参数", "source": "来源", "note": "说明", "as_written": "原文规则",
        "timeline": "取值时间线", "from": "起始日期", "value": "取值", "gap": "缺口", "variant": "变体",
        "base": "基础政策", "variants": "变体对照", "changed_in": "变体中改变的规则和参数", "entity": "实体",
        "type": "类型", "unit": "单位", "cited_line": "原文", "no_document": "（本机没有该文件的原文）",
        "matches": "匹配结果", "internal": "内部规则",
        "facts": "事实", "members": "家庭成员", "add_member": "添加成员", "remove_member": "删除",
        "evaluate": "评估", "on": "评估日期", "unset": "（未填）", "yes": "是", "no": "否",
        "decisions": "各项决策", "output": "输出", "decision": "决定", "explain": "说明",
        "explanation": "决策说明", "reasons": "因为", "rule": "依据", "sources": "来源", "tree": "推理过程",
        "whatif": "假如……", "whatif_intro": "改变以下事实会得到其他结果（点击即可应用并重新评估）：",
        "apply": "应用", "no_whatif": "在两项以内的改变中没有找到其他结果。", "invalid": "事实有误",
        "load": "载入农户", "load_file": "从文件载入（YAML/JSON 农户文件或决策记录）", "id_in_file": "户编号（文件中有多户时）", "did_you_mean": "是否想找：",
        "load_button": "载入", "from_dataset": "从已上传的数据集载入一行", "permalink": "本决策的固定链接", "download_record": "下载决策记录（JSON）",
        "unknown": "未知", "needs": "缺少", "immutable": "（不可改变）", "show_output": "查看说明的输出",
        "more_fields": "其他事实", "main_fields": "主要事实",
        "fill_in": "填写或修改左边的事实，决策和原因会随即显示在这里；也可以从文件或数据集中载入一户。",
        "upload": "上传数据集", "upload_label": "数据文件（Parquet、CSV、xlsx；CSV 可为 GBK 编码）",
        "members_file": "成员文件（可选，每行一名成员）", "encoding": "编码", "auto": "自动识别",
        "run": "开始计算", "progress": "进度", "rows": "行", "status": "状态", "jobs": "最近的任务",
        "queued": "排队中", "running": "计算中", "succeeded": "已完成", "failed": "失败",
        "summary": "结果摘要", "by_level": "按{level}分组", "incidence": "贫困发生率", "money": "金额合计",
        "quarantine": "隔离的行", "quarantine_intro": "这些行的事实有误，未参与计算：", "reason": "原因",
        "downloads": "下载", "results_format": "结果文件格式", "file.results": "计算结果", "file.quarantine": "隔离的行（含原因）",
        "file.summary.json": "结果摘要（JSON）", "file.summary.html": "结果摘要（HTML 报告）",
        "file.record": "运行记录（JSON）", "file.changed": "有变化的户", "file.report.json": "影响报告（JSON）",
        "file.report.html": "影响报告（HTML）", "households_in": "{group} 中{value}的户", "open_job": "查看",
        "click_bar": "点击柱条可列出对应的户；点击户编号可查看其决策说明。", "full_report": "完整报告（HTML）",
        "count": "户数", "none_found": "没有记录",
        "compare": "比较", "setting_a": "设置 A", "setting_b": "设置 B", "date": "日期", "pack_copy": "修改后的规则（可选）",
        "pack_copy_intro": "上传一个改过的规则文件（放在下面选的位置），或改过的文件的 zip（整个政策包或其中几个文件）；设置 B 用改过的政策包计算。",
        "edited_files": "设置 B 中改过的文件",
        "impact_intro": "选择两个日期、两个变体，或上传改过的规则，比较同一数据集在两种设置下的结果。",
        "changed_rows": "有变化的户", "before": "之前", "after": "之后", "under_a": "设置 A 下的说明", "under_b": "设置 B 下的说明",
        "open_file": "打开规则文件", "file": "文件", "check": "检查", "run_tests": "运行该文件的测试",
        "download": "下载", "save": "保存到政策包", "save_disabled": "服务以 --allow-edit 启动时才能保存",
        "no_problems": "没有发现问题", "diagnostics": "检查结果", "line": "行", "tests": "测试结果", "saved": "已保存",
        "editor_label": "规则文件内容", "counts": "（{e} 个错误，{w} 个警告）", "passed": "通过", "failed_tests": "未通过",
    },
    "en": {
        "app": "Poverty-alleviation policy workbench", "home": "Home", "policy": "Policy", "household": "Household",
        "dataset": "Dataset", "impact": "Impact", "edit": "Edit rules", "login": "Sign in", "switch": "中文",
        "token": "Access token", "sign_in": "Sign in", "bad_token": "Wrong token", "revision": "Revision",
        "loaded_at": "Loaded at",
        "home_intro": "The policy's rules, a household's decisions and their reasons, a county's picture "
                      "and the impact of a change, in one place.",
        "search": "Search", "search_label": "Search rules and parameters by name or label", "files": "Rule files",
        "rules": "Rules", "params": "Parameters", "no_match": "No rule or parameter matches", "source": "Source",
        "note": "Note", "as_written": "As written", "timeline": "Values over time", "from": "From", "value": "Value",
        "gap": "gap", "variant": "Variant", "base": "Base policy", "variants": "Variants side by side",
        "changed_in": "Rules and parameters the variant changes", "entity": "Entity", "type": "Type", "unit": "Unit",
        "cited_line": "Cited text", "no_document": "(the document is not installed here)", "matches": "Matches",
        "internal": "internal",
        "facts": "Facts", "members": "Members", "add_member": "Add a member", "remove_member": "Remove",
        "evaluate": "Evaluate", "on": "As of", "unset": "(not given)", "yes": "yes", "no": "no",
        "decisions": "Decisions", "output": "Output", "decision": "Decision", "explain": "Explain",
        "explanation": "Explanation", "reasons": "Because", "rule": "Decided by", "sources": "Sources",
        "tree": "How it was decided", "whatif": "What if…",
        "whatif_intro": "Changing these facts gives another result (click to apply and re-evaluate):",
        "apply": "Apply", "no_whatif": "No other result within two changes.", "invalid": "Invalid facts",
        "load": "Load a household", "load_file": "From a file (YAML/JSON households or a decision record)",
        "id_in_file": "Household id (when the file holds several)", "did_you_mean": "Did you mean:", "load_button": "Load", "from_dataset": "From a row of an uploaded dataset",
        "permalink": "Permalink to this decision", "download_record": "Download the decision record (JSON)",
        "unknown": "unknown", "needs": "needs", "immutable": "(cannot change)", "show_output": "Output to explain",
        "more_fields": "Other facts", "main_fields": "Main facts",
        "fill_in": "Fill in or change the facts on the left: the decisions and their reasons appear here as you type. "
                   "Or load a household from a file or a dataset.",
        "upload": "Upload a dataset", "upload_label": "Data file (Parquet, CSV, xlsx; CSV may be GBK)",
        "members_file": "Members file (optional, one member a row)", "encoding": "Encoding", "auto": "detect",
        "run": "Run", "progress": "Progress", "rows": "rows", "status": "Status", "jobs": "Recent jobs",
        "queued": "queued", "running": "running", "succeeded": "finished", "failed": "failed",
        "summary": "Summary", "by_level": "By {level}", "incidence": "Poverty incidence", "money": "Money totals",
        "quarantine": "Quarantined rows", "quarantine_intro": "These rows have invalid facts and were not evaluated:",
        "reason": "Reason", "downloads": "Downloads", "results_format": "Results file format", "file.results": "Results", "file.quarantine": "Quarantined rows (with reasons)",
        "file.summary.json": "Summary (JSON)", "file.summary.html": "Summary (HTML report)",
        "file.record": "Run record (JSON)", "file.changed": "Changed households", "file.report.json": "Impact report (JSON)",
        "file.report.html": "Impact report (HTML)", "households_in": "Households in {group} with {value}",
        "open_job": "Open", "click_bar": "Click a bar to list its households; click a household id for its explanation.",
        "full_report": "Full report (HTML)", "count": "Households", "none_found": "None",
        "compare": "Compare", "setting_a": "Setting A", "setting_b": "Setting B", "date": "Date",
        "pack_copy": "Edited rules (optional)",
        "pack_copy_intro": "Upload one edited rule file (placed at the path chosen below) or a zip of edited files (the whole pack or some of its files); setting B evaluates with the edited pack.",
        "edited_files": "Files edited in setting B",
        "impact_intro": "Choose two dates, two variants, or upload edited rules, and compare a dataset's "
                        "results under both.",
        "changed_rows": "Changed households", "before": "before", "after": "after", "under_a": "explained under A",
        "under_b": "explained under B",
        "open_file": "Open a rule file", "file": "File", "check": "Check", "run_tests": "Run this file's tests",
        "download": "Download", "save": "Save into the pack", "save_disabled": "Saving needs fupin serve --allow-edit",
        "no_problems": "No problems found", "diagnostics": "Diagnostics", "line": "line", "tests": "Tests",
        "saved": "Saved", "editor_label": "Rule file text", "counts": "({e} errors, {w} warnings)", "passed": "passed", "failed_tests": "failed",
    },
}


def page_lang(request: Request) -> str:
    """``?lang=``, else the cookie, else the service's default language."""
    asked = request.query_params.get("lang")
    if asked in WORDS:
        return asked
    kept = request.cookies.get(COOKIE)
    if kept in WORDS:
        return kept
    default = request.app.state.config.lang
    return default if default in WORDS else "zh"


def words(lang: str):
    """``t(key, **args)`` for templates: the word in ``lang`` (the key itself if missing)."""
    table = WORDS[lang]

    def t(key: str, **args) -> str:
        text = table.get(key, key)
        return text.format(**args) if args else text
    return t


def pick(labels, lang: str) -> str | None:
    """A declared label (``Labels`` with zh/en) in ``lang``, falling back to Chinese."""
    if labels is None:
        return None
    return (getattr(labels, lang, None) or getattr(labels, "zh", None)) or None
