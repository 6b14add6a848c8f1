"""Audit entries as people read them: the action, the object kind and the changed fields in words,
values in their display form. The stored entry keeps machine keys (stable for search and export);
only this presentation layer knows the words, so apps can add actions without touching core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kepu.core.models import AuditEntry, Denominator, OrgUnit, Role
from kepu.plans.models import Aggregation, Indicator, Observation, Programme, Target, TargetKind

OBJECTS: dict[str, Promise] = {
    "plans.observation": _("数据"),
    "citizens.citizen": _("市民账户"),
    "plans.target": _("目标"),
    "plans.indicator": _("指标"),
    "plans.plan": _("规划"),
    "plans.programme": _("工程"),
    "plans.section": _("任务板块"),
    "plans.task": _("任务"),
    "plans.keygroup": _("重点人群"),
    "plans.targetallocation": _("目标分解"),
    "plans.reportfile": _("考核报告"),
    "plans.deliverable": _("重点事项"),
    "plans.progressreport": _("进展报告"),
    "core.orgunit": _("行政区划"),
    "core.department": _("责任单位"),
    "auth.user": _("用户"),
    "literacy.wave": _("素质测评调查"),
    "literacy.item": _("题目"),
    "outreach.resource": _("科普内容"),
    "outreach.topic": _("内容主题"),
    "outreach.feedsource": _("合作方内容来源"),
    "quiz.contest": _("竞赛"),
    "outreach.kiosk": _("大屏"),
    "outreach.campaign": _("推送活动"),
    "community.expert": _("专家"),
    "community.capacityweights": _("能力指数权重"),
    "community.expertassignment": _("专家任务"),
    "community.volunteerteam": _("志愿服务队"),
    "community.volunteer": _("志愿者"),
    "community.servicerecord": _("志愿服务记录"),
    "community.certificate": _("志愿服务证明"),
    "events.series": _("活动品牌"),
    "events.campaignday": _("活动日历节点"),
    "events.event": _("科普活动"),
    "events.registration": _("活动报名"),
    "events.checkin": _("签到"),
    "events.feedback": _("活动评价"),
    "events.eventphoto": _("活动照片"),
    "events.assignment": _("科技特派员派驻"),
    "events.visit": _("走访记录"),
    "facilities.application": _("基地申报"),
    "facilities.rubriccriterion": _("评分细则"),
    "facilities.reviewassignment": _("评审分派"),
    "facilities.base": _("科普基地"),
    "facilities.annualreview": _("年度复核"),
    "facilities.venue": _("开放场馆"),
    "facilities.visitslot": _("参观时段"),
    "facilities.booking": _("场馆预约"),
    "facilities.visitcount": _("接待人次"),
    "funding.budget": _("科普经费预算"),
    "funding.spendingreport": _("经费支出报告"),
    "funding.spendingline": _("支出明细"),
    "funding.fundcall": _("基金申报指南"),
    "funding.fundapplication": _("基金申请"),
    "funding.fundreview": _("基金评审"),
    "funding.fundaward": _("基金资助"),
    "funding.completionreport": _("结题报告"),
    "recognition.honour": _("表彰项目"),
    "recognition.nomination": _("表彰推荐"),
    "recognition.nominationreview": _("推荐评审"),
    "recognition.honouraward": _("表彰记录"),
    "emergency.hazard": _("灾种"),
    "emergency.guidance": _("应急指引"),
    "emergency.emergencyevent": _("应急事件"),
    "rumours.claim": _("谣言线索"),
    "rumours.debunk": _("辟谣"),
    "rumours.partner": _("合作平台"),
}

VERBS: dict[str, Promise] = {
    "create": _("新建"),
    "update": _("修改"),
    "delete": _("删除"),
    "deactivate": _("停用"),
    "responsible_units": _("修改责任单位"),
}

# Actions the verb alone does not describe.
ACTIONS: dict[str, Promise] = {
    "observation.create": _("填报数据"),
    "observation.update": _("修改数据"),
    "observation.submit": _("提交审核"),
    "observation.approve": _("批准"),
    "observation.return": _("退回"),
    "observation.derive": _("由平台记录生成数据"),
    "demo.generate": _("生成演示数据"),
    "literacy.demo": _("生成演示测评"),
    "wave.import": _("导入受访者数据"),
    "wave.weight": _("加权"),
    "wave.estimate": _("计算估计值"),
    "wave.publish": _("发布到规划"),
    "outreach.reach_publish": _("发布重点人群科普触达人数到规划"),
    "wave.profile": _("更换评分标准"),
    "citizen.signup": _("市民注册"),
    "citizen.consent": _("市民更改授权"),
    "citizen.profile": _("市民修改资料"),
    "citizen.delete": _("市民注销账户"),
    "wave.attach_online": _("附加在线测试答卷"),
    "wave.variance": _("更改方差估计方法"),
    "item.revision": _("提出题目修订"),
    "item.revision_status": _("审核题目修订"),
    "item.status": _("更改题目状态"),
    "user.roles": _("修改角色"),
    "token.create": _("创建接口令牌"),
    "token.revoke": _("撤销接口令牌"),
    "report.request": _("申请生成考核报告"),
    "allocation.update": _("修改目标分解"),
    "allocation.delete": _("删除目标分解"),
    "progress.create": _("填写进展报告"),
    "progress.update": _("修改进展报告"),
    "progress.submit": _("提交进展报告"),
    "progress.approve": _("进展报告审核通过"),
    "progress.return": _("退回进展报告"),
    "progress.evidence": _("添加佐证材料"),
    "progress.schedule": _("设置进展报告截止日期"),
    "allocation.override": _("调整各区分解比例"),
    "task.units": _("修改牵头和配合单位"),
    "task.indicators": _("修改任务衡量指标"),
    "evidence.upload": _("上传佐证材料"),
    "deliverable.evidence": _("添加佐证材料"),
    "deliverable.milestone": _("新增里程碑"),
    "deliverable.milestone_done": _("完成里程碑"),
    "deliverable.progress": _("更新进度"),
    "deliverable.submit": _("提交完成材料"),
    "deliverable.sign_off": _("确认完成"),
    "deliverable.return": _("退回重点事项"),
    "resource.create": _("新建科普内容"),
    "resource.update": _("修改科普内容"),
    "resource.review": _("审核科普内容"),
    "resource.return": _("退回科普内容"),
    "resource.publish": _("发布科普内容"),
    "resource.archive": _("归档科普内容"),
    "resource.restore": _("恢复科普内容为草稿"),
    "resource.import": _("导入更新科普内容"),
    "topic.import": _("导入内容主题"),
    "feed.import": _("导入合作方内容"),
    "campaign.create": _("新建推送活动"),
    "campaign.approve": _("批准推送活动"),
    "campaign.start": _("开始发送推送活动"),
    "campaign.cancel": _("取消推送活动"),
    "campaign.done": _("推送活动发送完成"),
    "capacity.weights": _("修改能力指数权重"),
    "certificate.issue": _("出具志愿服务证明"),
    "expert.assign": _("给专家分派任务"),
    "volunteer.register": _("志愿者登记"),
    "service_record.approve": _("认定志愿服务时长"),
    "service_record.reject": _("不予认定志愿服务时长"),
    "service_record.revoke": _("撤销已认定的服务时长"),
    "community.import_experts": _("导入专家库"),
    "community.import_volunteers": _("导入志愿者"),
    "community.import_records": _("导入志愿服务记录"),
    "community.export_unmasked_experts": _("导出专家库(含完整联系方式)"),
    "community.export_unmasked_volunteers": _("导出志愿者(含完整联系方式)"),
    "community.export_unmasked_records": _("导出服务记录(含完整联系方式)"),
    "events.assignment_create": _("派驻科技特派员"),
    "events.attendees_export_unmasked": _("导出参加者(含完整手机号)"),
    "events.calendar_delete": _("删除活动日历节点"),
    "events.calendar_save": _("保存活动日历节点"),
    "events.certify": _("认定培训结业"),
    "events.checkin": _("活动签到"),
    "events.event_cancel": _("取消活动"),
    "events.event_create": _("新建活动"),
    "events.event_update": _("修改活动"),
    "events.feedback": _("活动评价"),
    "events.import": _("导入活动"),
    "events.photo_add": _("上传活动照片"),
    "events.register": _("活动报名"),
    "events.series_save": _("保存活动品牌"),
    "events.visit_delete": _("删除走访记录"),
    "events.visit_log": _("记录进村入户走访"),
    "events.walk_in": _("现场登记参加者"),
    "facilities.annual_review": _("基地年度复核"),
    "facilities.apply": _("申报科普基地"),
    "facilities.booking_decide": _("处理场馆预约"),
    "facilities.booking_request": _("预约场馆参观"),
    "facilities.certify": _("认定科普基地"),
    "facilities.expire": _("基地认定到期"),
    "facilities.import": _("导入基地和场馆"),
    "facilities.reject": _("不予认定"),
    "facilities.renew": _("基地续期"),
    "facilities.review_assign": _("分派评审专家"),
    "facilities.review_submit": _("提交评审打分"),
    "facilities.revoke": _("撤销基地认定"),
    "facilities.slot_add": _("新增参观时段"),
    "facilities.venue_create": _("新建开放场馆"),
    "facilities.venue_update": _("修改开放场馆"),
    "facilities.visits": _("填报接待人次"),
    "funding.application_submit": _("提交基金申请"),
    "funding.award": _("资助立项"),
    "funding.budget_approve": _("批准科普经费预算"),
    "funding.budget_change": _("调整已批准预算"),
    "funding.budget_create": _("填报科普经费预算"),
    "funding.budget_return": _("退回预算"),
    "funding.budget_submit": _("提交预算审核"),
    "funding.budget_update": _("修改预算"),
    "funding.call_create": _("发布基金申报指南"),
    "funding.completion_review": _("验收结题报告"),
    "funding.completion_submit": _("提交结题报告"),
    "funding.decline": _("不予资助"),
    "funding.review_assign": _("分派评审专家"),
    "funding.review_score": _("专家评审打分"),
    "funding.spending_review": _("审核经费支出"),
    "funding.spending_submit": _("提交经费支出报告"),
    "recognition.award": _("授予表彰"),
    "recognition.decline": _("不予表彰"),
    "recognition.honour_create": _("新建表彰项目"),
    "recognition.honour_update": _("修改表彰项目"),
    "recognition.nominate": _("推荐表彰"),
    "recognition.review": _("评审推荐"),
    "recognition.revoke": _("撤销表彰"),
    "community.import_teams": _("导入志愿服务队"),
    "events.import_visits": _("导入进村入户走访记录"),
    "guidance.update_published": _("修改已发布的应急指引"),
    "guidance.update_refused": _("拒绝悄悄修改已发布的应急指引"),
    "guidance.review": _("审核应急指引"),
    "guidance.review_refused": _("拒绝审核自己撰写的应急指引"),
    "guidance.publish": _("发布应急指引"),
    "guidance.publish_refused": _("拒绝发布未经审核的应急指引"),
    "guidance.unpublish": _("撤回应急指引"),
    "emergency.declare": _("宣布应急状态"),
    "emergency.declare_refused": _("拒绝越权宣布应急状态"),
    "emergency.end": _("结束应急状态"),
    "emergency.end_refused": _("拒绝越权结束应急状态"),
    "emergency.campaign_prepare": _("准备应急推送活动"),
    "emergency.campaign_approve": _("批准应急推送活动"),
    "emergency.hazards_load": _("载入应急科普知识库"),
    "rumours.claim_submit": _("收到谣言线索"),
    "rumours.claim_dismiss": _("谣言线索不予处理"),
    "rumours.claim_match": _("谣言线索匹配到已发布辟谣"),
    "rumours.debunk_open": _("创建辟谣"),
    "rumours.debunk_assign": _("分派辟谣专家"),
    "rumours.debunk_draft": _("撰写辟谣草稿"),
    "rumours.debunk_submit": _("辟谣送审"),
    "rumours.debunk_return": _("退回辟谣"),
    "rumours.debunk_publish": _("发布辟谣"),
    "rumours.debunk_correct": _("更正已发布的辟谣"),
    "rumours.publish_refused": _("拒绝未经审核的发布"),
    "rumours.silent_edit_refused": _("拒绝直接修改已发布的辟谣"),
    "rumours.partner_create": _("登记合作平台"),
    "rumours.partner_deactivate": _("停用合作平台"),
    "rumours.partner_region_refused": _("拒绝合作平台越区报送"),
}

FIELDS: dict[str, Promise] = {
    # A citizen's consent decisions (kepu.citizens.models.Purpose)
    "personalise": _("个性化推荐"),
    "push": _("消息推送"),
    "analytics": _("匿名统计分析"),
    "selftest_link": _("关联科学素质自测结果"),
    "title_zh": _("中文标题"),
    "title_en": _("英文标题"),
    "body_zh": _("中文正文"),
    "body_en": _("英文正文"),
    "url": _("链接"),
    "source_url": _("来源链接"),
    "licence": _("许可协议"),
    "dimensions": _("素质维度"),
    "benchmarks": _("对应基准"),
    "key_groups": _("重点人群"),
    "age_bands": _("年龄段"),
    "topics": _("主题"),
    "regions": _("面向地区"),
    "last_imported_at": _("最近导入时间"),
    "name_zh": _("中文名称"),
    "name_en": _("英文名称"),
    "code": _("代码"),
    "kind": _("类型"),
    "order": _("顺序"),
    "active": _("启用"),
    "unit": _("单位"),
    "section": _("所属板块"),
    "aggregation": _("全市数算法"),
    "integer": _("只取整数"),
    "min_value": _("最小值"),
    "max_value": _("最大值"),
    "district_not_above_city": _("区值不超过全市"),
    "jump_pct": _("年变化提示阈值(%)"),
    "frequency": _("报送频率"),
    "value": _("数值"),
    "deadline_year": _("期限年"),
    "period_start": _("起始年"),
    "period_end": _("结束年"),
    "baseline_year": _("基线年"),
    "baseline_value": _("基线值"),
    "baseline_history": _("历史基线"),
    "milestones": _("里程碑"),
    "cascade": _("分解方式"),
    "quote": _("原文"),
    "note_zh": _("说明(中文)"),
    "note_en": _("说明(英文)"),
    "responsible_units": _("责任单位"),
    "roles": _("角色"),
    "respondents": _("受访者人数"),
    "status": _("状态"),
    "comment": _("说明"),
    "review_comment": _("审核意见"),
    "se": _("标准误"),
    "ci_low": _("置信区间下限"),
    "ci_high": _("置信区间上限"),
    "summary_zh": _("中文摘要"),
    "summary_en": _("英文摘要"),
    "population": _("人口"),
    "parent": _("上级"),
    "level": _("层级"),
    "name": _("名称"),
    "valid_from": _("生效日期"),
    "valid_to": _("失效日期"),
    "key_group": _("重点人群"),
    "region": _("地区"),
    "start_year": _("起始年"),
    "end_year": _("结束年"),
    "source": _("来源"),
    "version": _("版本"),
    "full_name": _("姓名"),
    "observations": _("观测值条数"),
    "estimates": _("估计值项数"),
    "weighting": _("加权结果"),
    "denominator": _("分解依据"),
    "direction": _("方向"),
    "significant": _("须统计显著"),
    "indicators": _("衡量指标"),
    "units": _("牵头和配合单位"),
    "open_list": _("单位列表含“等”"),
    "verbatim": _("原文照录"),
    "text_zh": _("任务原文"),
    "phase": _("阶段"),
    "group": _("人群"),
    "hazard": _("灾种"),
    "affected": _("影响地区"),
    "starts_at": _("开始时间"),
    "planned_end": _("计划结束时间"),
    "ended_at": _("结束时间"),
    "campaign_id": _("推送活动"),
    "campaign_status": _("推送活动状态"),
    "keywords": _("关键词"),
    "resource_codes": _("关联科普内容"),
    "category": _("类别"),
    "loaded": _("载入结果"),
}

# Keys inside structured values (e.g. a weighting report); others are left out.
DETAILS: dict[str, Promise] = {
    "converged": _("已收敛"),
    "iterations": _("迭代次数"),
    "kish_deff": _("Kish 设计效应"),
    "trimmed": _("截尾权数个数"),
}

# Kinds of departments and org units are free text in the plan and region files; these are the
# ones the shipped files use.
OTHER_KINDS: dict[str, Promise] = {
    "party": _("党委部门"),
    "government": _("政府部门"),
    "media": _("媒体"),
    "mass_org": _("群团组织"),
    "collective": _("集体"),
    "district_government": _("区政府"),
    "district": _("区"),
    "county_city": _("县级市"),
    "functional_zone": _("功能区"),
    "town": _("镇"),
    "street": _("街道"),
}

# Catalogue words (kepu.outreach.vocab; a resource's status and kind share the keys of plan objects).
OUTREACH_CHOICES: dict[str, dict[str, Any]] = {
    "dimensions": {"knowledge": _("科学知识"), "method": _("科学方法"), "spirit": _("科学精神与思维"),
                   "application": _("应用科学能力")},
    "key_groups": {"youth": _("青少年"), "farmers": _("农民"), "workers": _("产业工人"), "elderly": _("老年人"),
                   "officials": _("领导干部和公务员")},
    "resource_status": {"reviewed": _("已审核"), "published": _("已发布"), "archived": _("已归档")},
    "resource_kind": {"article": _("图文"), "video": _("视频"), "audio": _("音频"), "course": _("课程"),
                      "event_link": _("活动链接"), "venue_page": _("场馆页面")},
}
CHOICES: dict[str, dict[str, Any]] = {
    "aggregation": dict(Aggregation.choices),
    "status": {**OUTREACH_CHOICES["resource_status"], **dict(Observation.Status.choices)},
    "cascade": dict(Target.Cascade.choices),
    "kind": {**OUTREACH_CHOICES["resource_kind"], **OTHER_KINDS, **dict(TargetKind.choices),
             **dict(Programme.Kind.choices)},
    "level": dict(OrgUnit.Level.choices),
    "frequency": {"year": _("每年"), "quarter": _("每季度"), "month": _("每月")},
    "direction": {"up": _("越高越好"), "down": _("越低越好")},
    "denominator": dict(Denominator.Key.choices),
    **OUTREACH_CHOICES,
}

SOURCES: dict[str, Promise] = {
    "manual": _("页面填报"),
    "excel": _("Excel 模板"),
    "api": _("接口"),
    "demo": _("演示数据"),
    "literacy": _("素质测评"),
    "emergency": _("应急科普平台"),
}


def source_label(source: str) -> str:
    return str(SOURCES.get(source, source))


def action_label(entry: AuditEntry) -> str:
    if entry.action in ACTIONS:
        return str(ACTIONS[entry.action])
    # The object's kind is shown beside the action, so a generic verb is enough here.
    verb = entry.action.rsplit(".", 1)[-1]
    if verb in VERBS:
        return str(VERBS[verb])
    thing = OBJECTS.get(entry.object_type)
    return str(_("其他操作")) if thing is None else str(thing)


def _value(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "∅"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.4f}".rstrip("0")
    if isinstance(value, str) and key in CHOICES:
        return str(CHOICES[key].get(value, value))
    if key == "units" and isinstance(value, list):
        return "、".join(_unit(v) for v in value)
    if key == "roles" and isinstance(value, list):
        return "、".join(_role(r) for r in value)
    if isinstance(value, list):
        return "、".join(_value(key, v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{DETAILS[k]}：{_value(k, v)}" for k, v in value.items() if k in DETAILS) or "…"
    return str(value)


def _unit(value: Any) -> str:
    """A task unit stored as "lead:<name>" or "support:<name>"."""
    role, _sep, name = str(value).partition(":")
    words = {"lead": _("牵头"), "support": _("配合")}
    return f"{name}({words[role]})" if role in words and name else str(value)


def _english(value: Any) -> str:
    return "∅" if value in (None, "") else str(_("(英文内容)"))


def _role(role: Any) -> str:
    """A stored (role, org unit code, department code) triple."""
    if isinstance(role, list | tuple) and role:
        name = str(dict(Role.choices).get(role[0], role[0]))
        return name + (f"({role[1]})" if len(role) > 1 and role[1] else "")
    return str(role)


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    action: str
    object_kind: str
    object_label: str
    changes: list[Change]


def indicator_names(lang: str) -> dict[str, str]:
    """Indicator code → name, to show observation entries (labelled "CODE · unit · period") in words."""
    return {i.code: i.name(lang) for i in Indicator.objects.only("code", "name_zh", "name_en")}


def search_filter(q: str, names: dict[str, str]) -> Q:
    """Entries whose object matches the text, searching indicator names too (labels store codes)."""
    cond = Q(object_label__icontains=q)
    for code, name in names.items():
        if q.lower() in name.lower():
            cond |= Q(object_type="plans.observation", object_label__startswith=f"{code} · ")
    return cond


def _object_label(entry: AuditEntry, names: dict[str, str]) -> str:
    if entry.object_type == "plans.observation" and " · " in entry.object_label:
        code, rest = entry.object_label.split(" · ", 1)
        return f"{names.get(code, code)} · {rest}"
    return entry.object_label


def describe(entry: AuditEntry, names: dict[str, str] | None = None, lang: str = "zh-hans") -> AuditRow:
    """`names`: indicator code → name (see indicator_names). On Chinese pages the values of
    English-language fields (name_en, note_en, …) are not spelled out, only that they changed."""
    changes = []
    names = names or {}
    for k, v in (entry.changes or {}).items():
        old, new = (v[0], v[1]) if isinstance(v, list) and len(v) == 2 else (None, v)
        if k.endswith("_en") and not lang.startswith("en"):
            changes.append(Change(str(FIELDS.get(k, k)), _english(old), _english(new)))
        elif k == "indicators":  # indicator codes, shown by name
            shown = ["、".join(names.get(c, str(c)) for c in v or []) or "∅" for v in (old, new)]
            changes.append(Change(str(FIELDS[k]), shown[0], shown[1]))
        else:
            changes.append(Change(str(FIELDS.get(k, k)), _value(k, old), _value(k, new)))
    return AuditRow(entry, action_label(entry), str(OBJECTS.get(entry.object_type, "")),
                    _object_label(entry, names), changes)
