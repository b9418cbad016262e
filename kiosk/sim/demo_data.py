"""The demo residents: one deterministic set shared by the emulated cards and the reference backend.

Everyone here is fictional. ID numbers are built with real check digits so that the
validation code runs for real on them. The emulated ID-card reader and social-security-card
reader hand out these people, and the reference backend holds their records, so a card placed
in simulated mode finds its records over HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.identity import id_check_digit


def _id(area: str, birth: str, seq: int, sex: str) -> str:
    # the 17th digit is odd for men and even for women
    if seq % 2 != (1 if sex == "1" else 0):
        seq += 1
    body = f"{area}{birth}{seq:03d}"
    return body + id_check_digit(body)


@dataclass(frozen=True)
class DemoResident:
    key: str  # stable handle used by emulators, tests and the simulator panel
    name: str
    sex: str  # "1" male, "2" female
    birth: str  # YYYYMMDD
    nation: str  # two-digit code
    area: str
    seq: int
    address: str
    phone: str
    sscard_number: str  # 社会保障卡卡号, 9 characters
    card_status: str = "normal"  # normal | lost (临时挂失 in force)
    card_lost_at: str | None = None  # when a lost card was reported (ISO local time)
    pension: str | None = "resident"  # employee | resident | flexible | None
    medical: str | None = "resident"  # employee | resident | None
    retired: bool = False  # receiving a pension (待遇领取)
    note: str = ""  # why this resident is in the set

    @property
    def id_number(self) -> str:
        return _id(self.area, self.birth, self.seq, self.sex)

    @property
    def birth_date(self) -> dt.date:
        return dt.date(int(self.birth[:4]), int(self.birth[4:6]), int(self.birth[6:]))


_A = "山东省泰安市宁阳县"

RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident("zhang_xiuying", "张秀英", "2", "19560312", "01", "370921", 402, _A + "葛石镇东庄村12号", "13853801201", "M37092101", retired=True, note="retired, receives a resident pension"),
    DemoResident("wang_jianguo", "王建国", "1", "19620708", "01", "370921", 281, _A + "宁阳镇文化路88号", "13853801202", "M37092102", pension="employee", medical="employee", note="employee insurance, long history"),
    DemoResident("liu_yan", "刘䶮", "1", "19880405", "01", "370921", 603, _A + "东疏镇南街5号", "13853801203", "M37092103", note="rare name character (CJK Ext A U+4DAE)"),
    DemoResident("li_guilan", "李桂兰", "2", "19480101", "01", "370921", 272, _A + "伏山镇北村3号", "13853801204", "M37092104", retired=True, note="aged 78, resident pension"),
    DemoResident("chen_ming", "陈明", "1", "19910930", "01", "370921", 441, _A + "磁窑镇新华街7号", "13853801205", "M37092105", pension=None, medical=None, note="no insurance at all"),
    DemoResident("zhao_li", "赵丽", "2", "19850101", "01", "370902", 362, "山东省泰安市泰山区东岳大街100号", "13853801206", "M37092106", card_status="lost", card_lost_at="2026-11-18T09:42:00", note="social-security card reported lost"),
    DemoResident("sun_zhiqiang", "孙志强", "1", "19751120", "01", "370911", 301, "山东省泰安市岱岳区粥店街道1号", "13853801207", "M37092107", pension="flexible", medical="resident", note="flexible employment (灵活就业)"),
    DemoResident("zhou_fang", "周芳", "2", "19930214", "01", "370921", 922, _A + "华丰镇中心街9号", "13853801208", "M37092108", pension=None, medical="resident", note="resident medical insurance only"),
    DemoResident("wu_haitao", "吴海涛", "1", "19670611", "01", "370921", 271, _A + "堽城镇西街2号", "13853801209", "M37092109", pension="employee", medical="employee"),
    DemoResident("zheng_shuzhen", "郑淑珍", "2", "19530217", "01", "370921", 352, _A + "泗店镇东村18号", "13853801210", "M37092110", retired=True, pension="employee", medical="employee", note="retired employee"),
    DemoResident("feng_wei", "冯伟", "1", "19790823", "01", "370911", 741, "山东省泰安市岱岳区天平街道8号", "13853801211", "M37092111"),
    DemoResident("ma_yumei", "马玉梅", "2", "19691015", "03", "370902", 422, "山东省泰安市泰山区财源街道6号", "13853801212", "M37092112", note="回族 (nation 03)"),
    DemoResident("zhu_dehua", "朱德华", "1", "19440909", "01", "370921", 911, _A + "鹤山镇北街1号", "13853801213", "M37092113", retired=True, note="aged 82, the oldest"),
    DemoResident("hu_xiaoyan", "胡晓燕", "2", "19960618", "01", "370921", 402, _A + "乡饮乡前街4号", "13853801214", "M37092114"),
    DemoResident("guo_qiang", "郭强", "1", "19720229", "01", "370921", 731, _A + "蒋集镇南村6号", "13853801215", "M37092115", pension="flexible"),
    DemoResident("he_jing", "何静", "2", "20000520", "01", "370921", 432, _A + "八仙桥街道11号", "13853801216", "M37092116", pension=None, medical="resident"),
    DemoResident("gao_junjie", "高俊杰", "1", "19830707", "01", "370921", 431, _A + "宁阳镇建设路20号", "13853801217", "M37092117", pension="employee", medical="employee"),
    DemoResident("lin_xiaohong", "林小红", "2", "20020101", "01", "370911", 912, "山东省泰安市岱岳区满庄镇3号", "13853801218", "M37092118", pension=None, medical="resident"),
    DemoResident("luo_cheng", "罗成", "1", "19580505", "01", "370902", 721, "山东省泰安市泰山区上高街道2号", "13853801219", "M37092119", retired=True, pension="employee", medical="employee"),
    DemoResident("liang_jianping", "梁建平", "1", "19640826", "01", "370921", 841, _A + "东庄镇西村7号", "13853801220", "M37092120"),
    DemoResident("ouyang_na", "欧阳娜", "2", "19870310", "01", "370921", 172, _A + "宁阳镇金阳路15号", "13853801221", "M37092121", note="compound surname"),
    DemoResident("ayigul", "阿依古丽·买买提", "2", "19900815", "05", "370921", 522, _A + "宁阳镇团结路3号", "13853801222", "M37092122", note="维吾尔族, long name with a middle dot"),
)

BY_KEY: dict[str, DemoResident] = {r.key: r for r in RESIDENTS}


def by_id_number(id_number: str) -> DemoResident | None:
    for r in RESIDENTS:
        if r.id_number == id_number:
            return r
    return None
