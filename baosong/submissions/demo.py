"""Demo items for the province 江川省: about forty items in every state, written and reviewed by
the demo people themselves.

Every item is made through workflow.py with the real demo person as `by=`, so each one has the
timeline, versions, notifications and audit trail real work leaves. Loading is idempotent: when
any demo title already exists in the demo units nothing is created.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.test.utils import override_settings

from baosong.lib.demo_clock import Clock, Plan
from baosong.orgs.models import Role, Unit, User
from baosong.submissions import workflow
from baosong.submissions.models import ItemType, Kind, Submission
from baosong.submissions.workflow import DraftInput, StageInput

INFO, NEWS, SPECIAL = ItemType.INFO.value, ItemType.NEWS.value, ItemType.SPECIAL.value
DYNAMIC, EXPERIENCE, PROBLEM, ANALYSIS = (
    Kind.DYNAMIC.value,
    Kind.EXPERIENCE.value,
    Kind.PROBLEM.value,
    Kind.ANALYSIS.value,
)

# A step of an item's story, done in order:
#   ("save",) / ("autosave",)          the writer adds the next paragraph (a new version)
#   ("submit",) / ("withdraw",)        the writer submits for review / takes the item back
#   ("approve", login, comment)        the current stage's reviewer approves
#   ("return", login, comment, anchor) returned to the authors, the comment on a quoted passage
#   ("revise", old, new)               the writer rewrites a passage (a new version)
#   ("edit", login, old, new)          a proofreading stage edits the text (a review_edit version)
#   ("reject", login, reason)          the current stage's reviewer rejects
#   ("open", login)                    an editor of an addressed unit opens the submitted item
Step = tuple[str, ...]

SUBMIT: Step = ("submit",)
SAVE: Step = ("save",)


def approvals(login: str, count: int = 3) -> tuple[Step, ...]:
    comments = ["同意，报复审。", "同意，报终审。", "同意报送。"]
    return tuple(("approve", login, comments[i]) for i in range(count))


@dataclass(frozen=True)
class DemoItem:
    unit: str
    writer: str
    item_type: str
    title: str
    paragraphs: tuple[str, ...]
    event_date: str
    keywords: str
    kind: str = ""
    coauthors: tuple[tuple[str, int], ...] = ()
    addressed: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()

    @property
    def saves(self) -> int:
        return sum(1 for step in self.steps if step[0] in ("save", "autosave"))


# 临江市委组织部 reviews in three stages of its own: 初审 by its reviewer, 校对 by the named
# editor (who may edit the text), 终审 by the unit admin. 安平县 sends 专报 through two stages.
CUSTOM_STAGES: list[tuple[str, str, str, list[tuple[str, str, list[str], bool]]]] = [
    (
        "JC-LJ",
        "linjiang_admin",
        "",
        [
            ("初审", Role.REVIEWER.value, [], False),
            ("校对", Role.REVIEWER.value, ["linjiang_bianji"], True),
            ("终审", Role.UNIT_ADMIN.value, [], False),
        ],
    ),
    (
        "JC-LJ-AP",
        "anping_admin",
        SPECIAL,
        [
            ("初审", Role.REVIEWER.value, [], False),
            ("终审", Role.UNIT_ADMIN.value, [], False),
        ],
    ),
]

AP, LJ = "JC-LJ-AP", "JC-LJ"

ITEMS: list[DemoItem] = [
    # 安平县委组织部 --------------------------------------------------------------------------
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县“干部夜校”开课 两百余名村干部集中“充电”",
        (
            "11月12日晚，安平县“干部夜校”2026年冬季班在县委党校开课，全县12个乡镇的216名村党组织"
            "书记、村委会主任和村级后备干部参加首期学习。",
            "夜校采取“周二、周四晚上集中授课＋周末现场教学”的方式，围绕强村富民、矛盾调处、集体经济"
            "发展等村干部最关心的问题设置18门课程，由县直部门业务骨干和优秀村党组织书记担任授课老师。",
            "县委组织部同步为每名学员建立学习档案，把出勤和结业考核情况纳入村干部年度考评，"
            "计划到明年1月底完成全县村干部轮训一遍。",
        ),
        "2026-11-12",
        "干部教育 村干部 夜校",
        kind=DYNAMIC,
        steps=(SAVE, ("autosave",)),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县以“积分制”管理激活农村党员队伍",
        (
            "今年以来，安平县在全县186个行政村推行农村党员积分制管理，把党员参加组织生活、联系服务"
            "群众、带头发展产业等情况量化为积分，按季度公示、年底评星。",
            "<strong>一是细化积分标准。</strong>设置基础分、贡献分、扣减分三类28项指标，让党员"
            "“干什么、怎么干”一目了然。<strong>二是用好积分结果。</strong>积分与评先评优、困难帮扶"
            "挂钩，连续两年排名靠后的党员由支部书记谈心提醒。",
            "截至10月底，全县1.2万余名农村党员参与积分管理，主动认领志愿服务岗位3400余个。",
        ),
        "2026-10-28",
        "党员管理 积分制 农村党建",
        kind=EXPERIENCE,
        coauthors=(("anping_tongxun", 40),),
        steps=(SAVE,),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "部分村级后备干部培养存在“断档”现象",
        (
            "近期，安平县委组织部对全县村级后备干部队伍开展摸底调研，发现部分村后备力量储备不足、"
            "培养不够系统的问题较为突出。",
            "调研显示，全县186个村中有23个村后备干部不足2名，35岁以下后备干部占比仅为31%；部分村对"
            "后备干部“只储备、不培养”，缺少压担子、促成长的具体安排。",
            "下一步，县委组织部将实施村级后备干部“育苗工程”，每村按不少于3名的标准动态储备，通过"
            "跟班学习、岗位锻炼等方式加强培养，防止出现“青黄不接”。",
        ),
        "2026-11-05",
        "后备干部 村干部队伍",
        kind=PROBLEM,
        steps=(SUBMIT,),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "关于年轻干部到村任职“水土不服”问题的调研与思考",
        (
            "近年来，安平县先后选派87名35岁以下干部到村任职。从跟踪了解的情况看，多数干部较快进入"
            "角色，但也有部分干部存在“融不进、干不开”的现象。",
            "<strong>主要表现：</strong>一是群众工作方法不多，遇到邻里纠纷“不会说、不敢管”；二是"
            "对村情民情了解不深，谋划发展思路与实际脱节；三是“走读”现象仍有发生，在村时间不足。",
            "<strong>几点建议：</strong>建立“老书记带新干部”结对机制，实行到村前集中培训和到村后"
            "三个月适应期考核，把在村表现作为年轻干部提拔使用的重要依据。",
        ),
        "2026-10-20",
        "年轻干部 驻村 调研",
        kind=ANALYSIS,
        steps=(SUBMIT, ("approve", "anping_shenhe", "情况属实，分析有针对性，同意报复审。")),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县举办2026年度基层党务工作者示范培训班",
        (
            "11月3日至7日，安平县2026年度基层党务工作者示范培训班在县委党校举办，全县各机关、"
            "企业、学校党组织的142名党务工作者参加培训。",
            "培训班紧扣党支部标准化规范化建设，开设“三会一课”规范操作、发展党员工作流程、党费收缴"
            "使用管理等专题，并组织学员到城关镇两个先进党支部现场观摩。",
            "结业时进行闭卷测试，合格率96%，未通过测试的学员将参加下一期补训。",
        ),
        "2026-11-03",
        "党务工作者 培训 支部建设",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("anping_shenhe", 2)),
    ),
    DemoItem(
        AP,
        "anping_tongxun",
        NEWS,
        "桥头镇：“红色代办员”跑出为民服务加速度",
        (
            "清晨七点半，桥头镇柏林村党员代办员李大姐已经把三份社保认证材料送到了镇便民服务中心。"
            "像她这样的“红色代办员”，全镇共有96名。",
            "今年以来，桥头镇从村“两委”干部、农村党员中选聘代办员，为留守老人、残疾人等群体代办"
            "社保、医保、户籍等23项事务，累计代办1260余件，群众满意率达到100%。",
            "“以前办个证要跑好几趟，现在打个电话就有人上门。”柏林村村民王大爷说。",
        ),
        "2026-10-30",
        "为民服务 代办员 桥头镇",
        steps=(
            SUBMIT,
            (
                "return",
                "anping_shenhe",
                "“满意率达到100%”的说法过于绝对，请核实数据来源，改用回访统计的具体数字。",
                "群众满意率达到100%",
            ),
        ),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县“组团式”帮扶推动软弱涣散村党组织转化提升",
        (
            "今年，安平县对排查出的11个软弱涣散村党组织实行“组团式”帮扶，每村由一名县级领导牵头，"
            "一个县直部门、一名第一书记、一名乡镇包村干部组成帮扶团队。",
            "帮扶团队驻村开展“一村一策”整顿，逐村分析问题、制定措施、限期销号，效果非常明显。",
            "县委组织部每季度开展一次督导，对整顿不力的帮扶单位进行约谈，确保整顿工作不走过场。",
        ),
        "2026-10-15",
        "软弱涣散 整顿 组团式帮扶",
        kind=EXPERIENCE,
        steps=(
            SUBMIT,
            (
                "return",
                "anping_shenhe",
                "第二段“效果非常明显”较空泛，请补充已转化提升的村数和具体成效。",
                "效果非常明显",
            ),
            (
                "revise",
                "效果非常明显",
                "年内已有9个村完成整顿转化，村集体经济收入平均增长18%",
            ),
            SUBMIT,
            *approvals("anping_shenhe"),
            ("open", "linjiang_bianji"),
        ),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "个别乡镇党建工作经费使用不够规范",
        (
            "近期，县委组织部在党建工作经费专项检查中发现，个别乡镇存在党建经费使用不够规范的问题。",
            "主要是少数村将党组织服务群众经费用于日常办公支出，部分支出票据不全、审批手续不完整。",
            "县委组织部已责成相关乡镇限期整改，并将开展全县党建经费使用情况“回头看”。",
        ),
        "2026-10-22",
        "党建经费 专项检查",
        kind=PROBLEM,
        steps=(
            SUBMIT,
            ("approve", "anping_shenhe", "同意，报复审。"),
            (
                "reject",
                "anping_shenhe",
                "反映的问题尚在核查中，相关数据未经纪检部门确认，暂不宜报送。",
            ),
        ),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县完成村（社区）“两委”班子运行情况分析研判",
        (
            "10月至11月，安平县委组织部组织12个乡镇对全县198个村（社区）“两委”班子运行情况开展"
            "全面分析研判。",
            "研判采取个别谈话、查阅资料、实地走访相结合的方式，共谈话1900余人次，"
            "评定“好”“较好”“一般”“较差”四个等次。",
            "对研判为“一般”“较差”的14个班子，逐一明确县级联系领导和整改时限，年底前完成调整优化。",
        ),
        "2026-11-10",
        "两委班子 分析研判",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("anping_shenhe")),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        SPECIAL,
        "关于安平县乡村振兴人才队伍建设情况的专题报告",
        (
            "<strong>一、基本情况。</strong>截至2026年10月底，安平县共有各类乡村人才1.86万人，"
            "其中农业生产经营人才9200人、农村二三产业发展人才4300人、乡村公共服务人才3100人。",
            "<strong>二、主要做法。</strong>实施“雁归工程”，吸引412名在外人才返乡创业；建立乡土"
            "人才库，评定县级乡土人才236名；推行“人才＋项目”模式，带动发展特色产业基地58个。",
            "<strong>三、存在问题。</strong>人才总量偏少、结构不优，35岁以下人才占比不足三成；"
            "激励保障政策落实不够到位，部分返乡人才创业融资难。",
            "<strong>四、下一步打算。</strong>出台乡村人才分类评价办法，设立乡村人才发展专项资金，"
            "力争到2027年底乡村人才总量突破2万人。",
        ),
        "2026-11-06",
        "乡村振兴 人才队伍 专题报告",
        coauthors=(("anping_tongxun", 40),),
        addressed=(LJ, "JC"),
        steps=(
            SUBMIT,
            ("approve", "anping_shenhe", "数据已与县人社局核对，同意报终审。"),
            ("approve", "anping_admin", "同意报送市委组织部、省委组织部。"),
            ("open", "linjiang_bianji"),
        ),
    ),
    DemoItem(
        AP,
        "anping_xinxi",
        INFO,
        "安平县启动“党员先锋岗”创评活动",
        (
            "近日，安平县在全县机关、企事业单位启动“党员先锋岗”创评活动，引导党员在岗位上亮身份、"
            "作表率。",
            "活动按照“个人申报、支部推荐、群众评议、党委审定”的程序，年底前评选出100个县级"
            "“党员先锋岗”，并在县融媒体中心集中展示。",
        ),
        "2026-11-16",
        "党员先锋岗 创评",
        kind=DYNAMIC,
        steps=(SUBMIT, ("withdraw",)),
    ),
    DemoItem(
        AP,
        "anping_tongxun",
        NEWS,
        "柏树乡：小院议事解民忧",
        (
            "傍晚时分，柏树乡石桥村的农家小院里坐满了村民，一场关于村道拓宽的“院坝会”正在进行。",
            "今年以来，柏树乡推行“小院议事”制度，村党支部每月在村民家中召开议事会，"
            "把村里大事小情摆到桌面上商量，累计解决群众急难愁盼问题80余件。",
            "“大家的事大家商量着办，心气顺了，事情也好办了。”石桥村党支部书记说。",
        ),
        "2026-11-08",
        "基层治理 议事 柏树乡",
        steps=(SUBMIT, *approvals("anping_shenhe"), ("withdraw",)),
    ),
    # 安平县的乡镇（没有审核人，只有草稿）--------------------------------------------------------
    DemoItem(
        "JC-LJ-AP-01",
        "chengguan_xinxi",
        INFO,
        "城关镇开展“党群连心·入户走访”活动",
        (
            "11月以来，城关镇组织全镇党员干部开展“党群连心·入户走访”活动，每名干部联系20户群众。",
            "走访中，干部们为群众讲政策、听诉求、解难题，已收集群众意见建议216条，现场解决73条。",
        ),
        "2026-11-18",
        "入户走访 联系群众",
        kind=DYNAMIC,
        steps=(SAVE,),
    ),
    DemoItem(
        "JC-LJ-AP-02",
        "qiaotou_xinxi",
        INFO,
        "桥头镇把党课搬上“村晚”舞台",
        (
            "桥头镇把党的创新理论编成快板、小品、三句半，搬上各村“村晚”舞台，让党课更接地气。",
            "今年以来，全镇共编排节目42个，演出60余场，观众1.5万人次。",
        ),
        "2026-11-14",
        "党课 村晚 理论宣讲",
        kind=EXPERIENCE,
    ),
    # 江北区委组织部 --------------------------------------------------------------------------
    DemoItem(
        "JC-LJ-JB",
        "jiangbei_xinxi",
        INFO,
        "江北区“社区合伙人”计划吸引120家单位参与基层治理",
        (
            "今年以来，江北区推出“社区合伙人”计划，引导辖区机关企事业单位、社会组织与社区结对，"
            "共同认领社区服务项目。",
            "截至10月底，已有120家单位成为“社区合伙人”，认领助老助残、儿童托管、环境整治等项目"
            "318个，投入资金和物资折合860余万元。",
            "区委组织部将“社区合伙人”履约情况纳入驻区单位党组织年度考核，推动共建由“软约束”"
            "变为“硬任务”。",
        ),
        "2026-10-26",
        "社区合伙人 共建 城市基层治理",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("jiangbei_shenhe"), ("open", "linjiang_bianji")),
    ),
    DemoItem(
        "JC-LJ-JB",
        "jiangbei_xinxi",
        INFO,
        "江北区以“街道吹哨、部门报到”破解城市基层治理难题",
        (
            "江北区赋予街道党工委对区直部门派驻机构的考核评价权，街道遇到难题“吹哨”，相关部门"
            "限时“报到”。",
            "机制运行以来，全区各街道共“吹哨”460余次，解决违建拆除、老旧管网改造等难题380余个，"
            "群众诉求办结率提高到95%以上。",
        ),
        "2026-11-11",
        "吹哨报到 街道 城市治理",
        kind=EXPERIENCE,
        coauthors=(("jiangbei_tongxun", 30),),
        steps=(SUBMIT,),
    ),
    DemoItem(
        "JC-LJ-JB",
        "jiangbei_tongxun",
        NEWS,
        "江北区：让新就业群体在城市里有个“家”",
        (
            "午后，外卖骑手小陈把电动车停在滨江街道“暖蜂驿站”门口，进门接杯热水、给手机充上电。",
            "江北区依托党群服务中心、商务楼宇建成“暖蜂驿站”35个，为快递员、外卖骑手、网约车司机"
            "提供歇脚、饮水、充电等服务，并吸纳新就业群体中的党员参与社区治理。",
            "“在这里能歇口气，还能参加党组织活动，感觉在城市里有了个家。”小陈说。",
        ),
        "2026-11-02",
        "新就业群体 暖蜂驿站 党建",
        steps=(SUBMIT, ("approve", "jiangbei_shenhe", "稿件生动，同意报复审。")),
    ),
    DemoItem(
        "JC-LJ-JB",
        "jiangbei_xinxi",
        INFO,
        "关于社区工作者队伍流失问题的分析及建议",
        (
            "近两年，江北区社区工作者年均流失率约为12%，明显高于机关事业单位。",
            "从离职访谈看，待遇偏低是唯一原因，部分社区工作者月收入不足本区城镇职工平均工资的七成。",
            "建议建立社区工作者岗位等级序列，完善薪酬动态调整机制，拓宽优秀社区工作者进入事业"
            "编制和公务员队伍的通道。",
        ),
        "2026-11-09",
        "社区工作者 队伍建设 研判",
        kind=ANALYSIS,
        steps=(
            SUBMIT,
            (
                "return",
                "jiangbei_shenhe",
                "“唯一原因”的判断依据不足，访谈中还反映了职业发展、工作负荷等因素，请补充完善。",
                "待遇偏低是唯一原因",
            ),
        ),
    ),
    DemoItem(
        "JC-LJ-JB",
        "jiangbei_xinxi",
        INFO,
        "江北区组织新任社区书记赴外地跟班学习",
        (
            "11月下旬，江北区组织今年新任的18名社区党组织书记分两批赴外地先进社区跟班学习。",
            "学员们全程参与结对社区的日常工作，学习网格管理、物业治理、居民议事等经验做法。",
            "跟班学习结束后，每名学员要结合本社区实际提交一份工作改进方案。",
        ),
        "2026-11-20",
        "社区书记 跟班学习",
        kind=DYNAMIC,
        steps=(SAVE, ("autosave",)),
    ),
    # 清河县委组织部 --------------------------------------------------------------------------
    DemoItem(
        "JC-LJ-QH",
        "qinghe_xinxi",
        INFO,
        "清河县62名乡村振兴指导员全部到村到岗",
        (
            "10月中旬，清河县从县直单位遴选的62名乡村振兴指导员全部到村到岗。",
            "指导员任期两年，主要负责宣传政策、谋划产业、引进项目，县委组织部建立工作日志和"
            "季度述职制度，确保指导员沉得下、干得好。",
        ),
        "2026-10-19",
        "乡村振兴指导员 驻村",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("qinghe_shenhe")),
    ),
    DemoItem(
        "JC-LJ-QH",
        "qinghe_xinxi",
        INFO,
        "村级“小微权力”监督仍存在薄弱环节",
        (
            "清河县委组织部在村级组织运行情况调研中发现，村级“小微权力”监督仍存在薄弱环节。",
            "一是村务监督委员会作用发挥不充分，个别监委会成员与村干部存在亲属关系；二是村级"
            "重大事项“四议两公开”执行不到位，有的只公开结果不公开过程。",
            "建议制定村级小微权力清单，推行村务监督委员会主任由乡镇党委选派，"
            "并加强对监委会成员的培训。",
        ),
        "2026-11-13",
        "小微权力 村务监督",
        kind=PROBLEM,
        steps=(SUBMIT,),
    ),
    DemoItem(
        "JC-LJ-QH",
        "qinghe_xinxi",
        INFO,
        "清河县“三述三评”让村干部履职看得见",
        (
            "清河县在村干部年度考核中推行“三述三评”：述职责、述实绩、述不足，党员评、群众评、"
            "乡镇党委评。",
            "考核结果分为优秀、称职、基本称职、不称职四个等次，与村干部绩效报酬直接挂钩。",
        ),
        "2026-10-24",
        "村干部考核 三述三评",
        kind=EXPERIENCE,
        steps=(
            SUBMIT,
            (
                "reject",
                "qinghe_shenhe",
                "内容与本县9月已报送的《清河县村干部述职评议工作取得实效》基本重复，"
                "请挖掘新的做法和成效后再报。",
            ),
        ),
    ),
    # 石门县委组织部 --------------------------------------------------------------------------
    DemoItem(
        "JC-LJ-SM",
        "shimen_xinxi",
        INFO,
        "山区村“空心化”对基层党组织建设的影响及对策",
        (
            "石门县是典型的山区县，全县常住人口较户籍人口少三成以上，部分山区村常住人口不足户籍"
            "人口的一半。",
            "“空心化”带来三方面影响：党员老龄化加剧，60岁以上党员占比达47%；组织生活难以正常"
            "开展；村级后备力量严重不足。",
            "建议推行“线上＋线下”组织生活模式，建立在外党员人才库，探索“强村带弱村”联建机制。",
        ),
        "2026-10-29",
        "空心化 山区 基层党组织",
        kind=ANALYSIS,
        steps=(SUBMIT, *approvals("shimen_shenhe", 2)),
    ),
    DemoItem(
        "JC-LJ-SM",
        "shimen_xinxi",
        INFO,
        "石门县启动2026—2027年度农村党员冬训",
        (
            "11月17日，石门县2026—2027年度农村党员冬训工作全面启动。",
            "今年冬训以“学理论、强党性、促振兴”为主题，采取集中培训、巡回宣讲、线上学习等方式，"
            "计划培训农村党员9800余名，明年2月底前完成。",
        ),
        "2026-11-17",
        "党员冬训 教育培训",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("shimen_shenhe"), ("open", "linjiang_bianji")),
    ),
    DemoItem(
        "JC-LJ-SM",
        "shimen_xinxi",
        NEWS,
        "石门县：大山深处的“流动党校”",
        (
            "一辆面包车，一块投影幕布，几十张小板凳——这就是石门县的“流动党校”。",
            "针对山区党员居住分散、集中学习难的实际，石门县组建6支流动宣讲队，把党课送到田间地头、"
            "村民院落，今年已开展宣讲210场。",
            "“不用翻山越岭去镇上，在家门口就能听党课。”75岁的老党员说。",
        ),
        "2026-11-04",
        "流动党校 山区 党员教育",
        steps=(SAVE,),
    ),
    # 临江市委组织部（三个环节：初审、校对、终审）---------------------------------------------------
    DemoItem(
        LJ,
        "linjiang_xinxi",
        INFO,
        "临江市召开全市组织工作重点任务推进会",
        (
            "11月19日，临江市召开全市组织工作重点任务推进会，通报前三季度重点任务完成情况，"
            "部署四季度工作。",
            "会议要求，各县区要聚焦村（社区）“两委”换届后续工作、年轻干部培养、人才引进等重点任务，"
            "对照年初目标逐项盘点，确保全年任务圆满完成。",
        ),
        "2026-11-19",
        "组织工作 推进会",
        kind=DYNAMIC,
        steps=(SUBMIT,),
    ),
    DemoItem(
        LJ,
        "linjiang_xinxi",
        INFO,
        "临江市构建“市县乡村”四级联动人才服务体系",
        (
            "临江市在市、县、乡、村四级分别设立人才服务中心、服务站、服务点和人才联络员，"
            "为各类人才提供政策咨询、项目对接、生活保障等“一站式”服务。",
            "体系运行以来，共受理人才服务事项2300余件，协调解决子女入学、配偶就业等问题160余个。",
        ),
        "2026-11-07",
        "人才服务 四级联动",
        kind=EXPERIENCE,
        steps=(SUBMIT, ("approve", "linjiang_shenhe", "同意，请校对。")),
    ),
    DemoItem(
        LJ,
        "linjiang_xinxi",
        SPECIAL,
        "关于临江市年轻干部队伍建设情况的调研报告",
        (
            "<strong>一、基本情况。</strong>全市现有35岁以下年轻干部4120人，占干部总数的28.6%；"
            "其中县处级3人、乡科级612人。",
            "<strong>二、主要问题。</strong>一是源头储备不足，部分县区年轻干部断层明显；二是"
            "实践锻炼不够，一些年轻干部从家门到校门再到机关门，缺少基层历练；三是激励机制不够完善。",
            "<strong>三、对策建议。</strong>实施年轻干部“墩苗计划”，每年选派100名年轻干部到乡镇、"
            "信访、招商一线挂职锻炼，建立优秀年轻干部动态管理台账。",
        ),
        "2026-10-31",
        "年轻干部 调研报告",
        coauthors=(("jiangbei_xinxi", 40),),
        steps=(
            SUBMIT,
            ("approve", "linjiang_shenhe", "同意，请校对。"),
            (
                "edit",
                "linjiang_bianji",
                "从家门到校门再到机关门",
                "从家门到校门、从校门到机关门",
            ),
            ("approve", "linjiang_bianji", "已校对，修改了一处表述。"),
        ),
    ),
    DemoItem(
        LJ,
        "jiangbei_xinxi",
        NEWS,
        "临江市“人才夜市”现场签约项目46个",
        (
            "10月23日晚，临江市滨江广场灯火通明，首届“人才夜市”在这里开市。",
            "120余家企业摆出“招才摊位”，提供岗位1800多个，现场签约人才合作项目46个，"
            "吸引3000余名求职者前来“赶集”。",
            "“夜市氛围轻松，和企业负责人面对面聊，比投简历直接多了。”一名应届研究生说。",
        ),
        "2026-10-23",
        "人才夜市 招才引智",
        steps=(
            SUBMIT,
            ("approve", "linjiang_shenhe", "同意，请校对。"),
            ("edit", "linjiang_bianji", "120余家企业", "全市120余家重点企业"),
            ("approve", "linjiang_bianji", "已校对。"),
            ("approve", "linjiang_admin", "同意报送省委组织部。"),
        ),
    ),
    DemoItem(
        LJ,
        "linjiang_xinxi",
        INFO,
        "当前基层干部队伍中值得关注的几个苗头性问题",
        (
            "近期，临江市委组织部通过走访调研、谈心谈话等方式，对基层干部队伍思想状况进行了分析。",
            "发现以下苗头性问题值得关注：一是部分干部存在“躺平”心态，干事创业劲头不足；二是"
            "基层减负成效有反弹，迎检督查仍然偏多；三是个别干部对容错纠错机制心存顾虑。",
            "建议进一步落实基层减负各项措施，用好容错纠错机制，加强对基层干部的关心关爱。",
        ),
        "2026-11-01",
        "基层干部 思想状况 研判",
        kind=ANALYSIS,
        steps=(
            SUBMIT,
            ("approve", "linjiang_shenhe", "同意，请校对。"),
            ("approve", "linjiang_bianji", "已校对，无修改。"),
            ("approve", "linjiang_admin", "同意报送。"),
            ("open", "sheng_bianji"),
        ),
    ),
    DemoItem(
        LJ,
        "linjiang_xinxi",
        INFO,
        "临江市委组织部机关开展“学查改”专项行动",
        (
            "11月以来，临江市委组织部在部机关开展“学查改”专项行动，"
            "对照组工干部“讲政治、重公道、业务精、作风好”的要求，查找问题、立行立改。",
        ),
        "2026-11-21",
        "机关建设 学查改",
        kind=DYNAMIC,
    ),
    DemoItem(
        LJ,
        "linjiang_xinxi",
        INFO,
        "部分县区发展党员工作存在“重数量轻质量”倾向",
        (
            "从近期发展党员工作专项检查情况看，个别县区存在“重数量轻质量”倾向。",
            "有的党组织对入党积极分子培养考察流于形式，有的政治审查不够严格。",
        ),
        "2026-10-27",
        "发展党员 质量",
        kind=PROBLEM,
        steps=(
            SUBMIT,
            ("approve", "linjiang_shenhe", "同意，请校对。"),
            ("approve", "linjiang_bianji", "已校对。"),
            (
                "reject",
                "linjiang_admin",
                "涉及具体县区的检查数据尚未与县区核对，以市委组织部名义报送不妥，请核实后另行起草。",
            ),
        ),
    ),
    # 青山市：市委组织部和翠屏区、桃源县 ---------------------------------------------------------
    DemoItem(
        "JC-QS",
        "qingshan_xinxi",
        INFO,
        "青山市举办全市组织系统信息工作培训班",
        (
            "10月16日，青山市举办全市组织系统信息工作培训班，各县区委组织部信息员、"
            "通讯员共68人参加。",
            "培训邀请省委组织部信息调研处同志授课，围绕信息选题、写作规范、报送流程进行辅导。",
        ),
        "2026-10-16",
        "信息工作 培训",
        kind=DYNAMIC,
        steps=(SUBMIT, *approvals("qingshan_shenhe")),
    ),
    DemoItem(
        "JC-QS-CP",
        "cuiping_xinxi",
        INFO,
        "翠屏区“一网统管”赋能社区精细化治理",
        (
            "翠屏区把全区划分为860个网格，整合城管、公安、民政等12个部门的数据，建成区级"
            "“一网统管”平台。",
            "网格员发现问题随手拍、随时报，平台自动派单、限时办结，"
            "今年以来共处置各类事件4.2万件，按时办结率98.3%。",
        ),
        "2026-11-15",
        "一网统管 网格 社区治理",
        kind=DYNAMIC,
        steps=(SUBMIT,),
    ),
    DemoItem(
        "JC-QS-CP",
        "cuiping_xinxi",
        INFO,
        "翠屏区推行“街巷长制”打通服务群众“最后一米”",
        (
            "翠屏区在全区312条街巷推行“街巷长制”，由街道干部担任街巷长，负责街巷环境、秩序、"
            "服务等事项的巡查和协调。",
            "街巷长每天巡查不少于1次，发现问题能解决的当场解决，不能解决的上报街道统筹处理。",
        ),
        "2026-10-21",
        "街巷长制 城市管理",
        kind=EXPERIENCE,
        steps=(SUBMIT, *approvals("cuiping_shenhe")),
    ),
    DemoItem(
        "JC-QS-CP",
        "cuiping_tongxun",
        NEWS,
        "翠屏区：老旧小区里来了“红色物业”",
        (
            "走进翠屏区东风路街道纺织厂宿舍小区，新铺的路面干净整洁，楼道里的杂物不见了踪影。",
            "今年，街道党工委引入国有物业企业，成立小区党支部，物业费全部由政府兜底，"
            "小区的环境和秩序明显改善。",
            "“现在有人管了，住着舒心多了。”在小区住了30多年的居民张阿姨说。",
        ),
        "2026-11-05",
        "红色物业 老旧小区",
        steps=(
            SUBMIT,
            (
                "return",
                "cuiping_shenhe",
                "“物业费全部由政府兜底”与实际不符，据了解是过渡期补贴，请准确表述。",
                "物业费全部由政府兜底",
            ),
            ("revise", "物业费全部由政府兜底", "过渡期内由街道给予物业费补贴"),
            SUBMIT,
        ),
    ),
    DemoItem(
        "JC-QS-CP",
        "cuiping_xinxi",
        INFO,
        "老旧小区改造后长效管理机制亟待完善",
        (
            "翠屏区近三年改造老旧小区126个，但调研发现，部分小区改造后缺乏长效管理，出现“一年新、"
            "两年旧、三年回到老样子”的现象。",
        ),
        "2026-11-22",
        "老旧小区 长效管理",
        kind=PROBLEM,
    ),
    DemoItem(
        "JC-QS-TY",
        "taoyuan_xinxi",
        INFO,
        "桃源县启动首批“乡土人才”评定工作",
        (
            "桃源县出台乡土人才评定管理办法，启动首批县级乡土人才评定工作。",
            "评定面向种养能手、非遗传承人、农村电商带头人等群体，重点看实绩、看贡献、看带动作用，"
            "计划评定100名，给予每人每年3000元津贴。",
        ),
        "2026-11-10",
        "乡土人才 评定",
        kind=DYNAMIC,
        steps=(SUBMIT, ("approve", "taoyuan_shenhe", "同意，报复审。")),
    ),
    # 白河市：河东区、云溪县 -----------------------------------------------------------------------
    DemoItem(
        "JC-BH-HD",
        "hedong_xinxi",
        INFO,
        "河东区“党建＋网格”让矛盾纠纷就地化解",
        (
            "河东区把党支部建在网格上，全区设立网格党支部216个，配备专兼职网格员1300余名。",
            "网格党支部每月召开一次“网格议事会”，对排查出的矛盾纠纷分级分类化解，"
            "今年以来化解率达到96%，信访总量同比下降21%。",
        ),
        "2026-10-18",
        "党建引领 网格 矛盾纠纷",
        kind=EXPERIENCE,
        steps=(SUBMIT, *approvals("hedong_shenhe"), ("open", "baihe_bianji")),
    ),
    DemoItem(
        "JC-BH-HD",
        "hedong_xinxi",
        INFO,
        "关于城郊结合部流动党员管理的几点思考",
        (
            "河东区城郊结合部外来人口多、流动性大，流动党员底数不清、管理不到位的问题较为突出。",
            "建议依托社区党组织建立流动党员服务站，运用信息化手段动态掌握流动党员情况，"
            "推动流入地和流出地党组织双向共管。",
        ),
        "2026-11-14",
        "流动党员 城郊结合部",
        kind=ANALYSIS,
        steps=(SUBMIT,),
    ),
    DemoItem(
        "JC-BH-HD",
        "hedong_tongxun",
        NEWS,
        "河东区：社区书记工作室里的“金点子”",
        (
            "在河东区桥南社区，有一间不大的“社区书记工作室”，墙上贴满了写着各种点子的便签。",
            "工作室由全区5名优秀社区书记领衔，定期为年轻社区书记“出点子、解难题”。",
        ),
        "2026-11-20",
        "社区书记 工作室",
    ),
    DemoItem(
        "JC-BH-YX",
        "yunxi_xinxi",
        INFO,
        "云溪县选派50名干部驻村开展冬季帮扶",
        (
            "入冬以来，云溪县从县直单位选派50名干部组成冬季帮扶工作队，进驻25个脱贫村。",
            "工作队逐户走访了所有困难群众，重点排查取暖、饮水、住房安全等问题，建立问题清单，"
            "限时解决。",
        ),
        "2026-11-16",
        "驻村帮扶 冬季",
        kind=DYNAMIC,
        steps=(
            SUBMIT,
            (
                "return",
                "yunxi_shenhe",
                "“所有困难群众”表述不严谨，请写明走访覆盖的户数。",
                "所有困难群众",
            ),
        ),
    ),
]

DEMO_TITLES = [item.title for item in ITEMS]


def _body(paragraphs: tuple[str, ...]) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def _replace(item: Submission, old: str, new: str) -> str:
    if old not in item.body:
        raise ValidationError(f"演示稿件《{item.title}》中找不到“{old}”。")
    return item.body.replace(old, new, 1)


def _tell(
    spec: DemoItem, units: dict[str, Unit], people: dict[str, User], clock: Clock
) -> Submission:
    writer = people[spec.writer]
    hidden = spec.saves
    shown = len(spec.paragraphs) - hidden
    clock.step()
    item = workflow.create_draft(
        by=writer,
        unit=units[spec.unit],
        data=DraftInput(
            item_type=spec.item_type,
            kind=spec.kind,
            title=spec.title,
            body=_body(spec.paragraphs[:shown]),
            event_date=dt.date.fromisoformat(spec.event_date),
            keywords=spec.keywords,
            coauthors=[(people[login], share) for login, share in spec.coauthors],
            own_share=100 - sum(share for _, share in spec.coauthors),
            addressed=[units[code] for code in spec.addressed] or None,
        ),
    )
    for verb, *args in spec.steps:
        clock.step()
        if verb in ("save", "autosave"):
            shown += 1
            result = workflow.save_content(
                by=writer,
                item=item,
                base_version=item.version_number,
                title=item.title,
                body=_body(spec.paragraphs[:shown]),
                autosave=verb == "autosave",
            )
            item = result.item
        elif verb == "revise":
            item = workflow.save_content(
                by=writer,
                item=item,
                base_version=item.version_number,
                title=item.title,
                body=_replace(item, args[0], args[1]),
            ).item
        elif verb == "edit":
            item = workflow.save_content(
                by=people[args[0]],
                item=item,
                base_version=item.version_number,
                title=item.title,
                body=_replace(item, args[1], args[2]),
            ).item
        elif verb == "submit":
            item = workflow.submit_for_review(by=writer, item=item)
        elif verb == "withdraw":
            item = workflow.withdraw(by=writer, item=item)
        elif verb == "approve":
            item = workflow.approve(by=people[args[0]], item=item, comment=args[1])
        elif verb == "return":
            item = workflow.return_to_authors(
                by=people[args[0]], item=item, comment=args[1], anchor=args[2]
            )
        elif verb == "reject":
            item = workflow.reject(by=people[args[0]], item=item, reason=args[1])
        elif verb == "open":
            workflow.mark_opened(by=people[args[0]], item=item)
        else:
            raise ValueError(verb)
    return item


def _logins() -> set[str]:
    logins = {item.writer for item in ITEMS}
    for item in ITEMS:
        logins.update(login for login, _ in item.coauthors)
        for step in item.steps:
            if step[0] in ("approve", "return", "reject", "open", "edit"):
                logins.add(step[1])
    for _, admin, _, stages in CUSTOM_STAGES:
        logins.add(admin)
        for _, _, named, _ in stages:
            logins.update(named)
    return logins


# Steps of the items' stories: the units' review stages, each item's writing, then its steps.
STEPS = len(CUSTOM_STAGES) + sum(1 + len(spec.steps) for spec in ITEMS)


def load_demo_items(plan: Plan | None = None) -> int:
    """Create the demo items once, after the demo province; returns how many were created (0 when
    they exist already). Told over the working days before `plan`'s handling day (see
    baosong.lib.demo_clock). The demo sends no email: the console would fill with a hundred
    messages."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return _load(plan or Plan(STEPS, 0))


@transaction.atomic
def _load(plan: Plan) -> int:
    codes = {item.unit for item in ITEMS} | {code for item in ITEMS for code in item.addressed}
    codes |= {code for code, _, _, _ in CUSTOM_STAGES}
    if Submission.objects.filter(unit__code__in=codes, title__in=DEMO_TITLES).exists():
        return 0
    units = {unit.code: unit for unit in Unit.objects.filter(code__in=codes)}
    wanted = _logins()
    people = {user.username: user for user in User.objects.filter(username__in=wanted)}
    missing = sorted((wanted - set(people)) | (codes - set(units)))
    if missing:
        raise ValidationError(f"演示单位或人员不完整，未加载演示稿件：缺少 {'、'.join(missing)}。")
    # The units' review stages first; then the items, told one after another in the order of
    # the events they report, every step a little after the one before.
    with plan.items() as clock:
        for code, admin, item_type, stages in CUSTOM_STAGES:
            clock.step()
            workflow.set_stages(
                by=people[admin],
                unit=units[code],
                item_type=item_type,
                stages=[
                    StageInput(
                        name=name,
                        role=role,
                        people=[people[login] for login in named],
                        can_edit=can_edit,
                    )
                    for name, role, named, can_edit in stages
                ],
            )
        for spec in sorted(ITEMS, key=lambda spec: spec.event_date):
            _tell(spec, units, people, clock)
    return len(ITEMS)
