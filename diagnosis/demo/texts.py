"""What people write in the demo history: merchants at the counter (short, colloquial Chinese,
some English), agents answering them, internal notes, bank answers and article comments.

Cards appear only masked (first 6 + last 4 at most); no text holds a run of 13 or more digits
(tests/diagnosis/test_demo_history.py checks every stored demo text).
"""

# Response codes and how often they reach the desk (per thousand tickets, roughly): balance and
# PIN dominate, issuer refusals, communication failures and MAC errors are regular, the rest rare.
CODE_WEIGHTS = {
    "51": 290,
    "55": 150,
    "05": 85,
    "96": 70,
    "A0": 55,
    "61": 45,
    "54": 40,
    "14": 30,
    "91": 30,
    "75": 25,
    "57": 22,
    "65": 18,
    "01": 15,
    "98": 12,
    "58": 12,
    "62": 10,
    "94": 10,
    "68": 9,
    "41": 6,
    "43": 6,
    "03": 6,
    "12": 5,
    "13": 5,
    "22": 4,
    "19": 4,
    "99": 4,
    "40": 3,
    "59": 3,
    "A7": 2,
    "C0": 2,
    "33": 2,
}

# Codes an agent escalates to the acquirer (the bank has to look or act).
ESCALATE_CODES = frozenset({"05", "96", "A0", "91", "58", "03", "94", "98", "22", "01", "57", "62"})

# Real terminal models sold in China (Android smart POS and classic countertop/handheld).
TERMINAL_MODELS = [
    ("PAX A920", 6),
    ("PAX S90", 3),
    ("PAX A80", 2),
    ("Newland ME31", 3),
    ("Newland N910", 3),
    ("Centerm K9", 2),
    ("LANDI A8", 2),
    ("SUNMI P2", 3),
]
LOCATIONS = ["收银台 1", "收银台 2", "前台", "吧台", "外卖窗口", "门口收银", "二楼收银台", "服务台"]

MERCHANT_NAMES = [
    "福满家超市",
    "鑫源五金店",
    "小林水果铺",
    "川味小馆",
    "Lucky Coffee 幸运咖啡",
    "阿芳奶茶",
    "好邻居便利店",
    "老王烧烤",
    "康宁大药房",
    "悦动健身",
    "天天鲜生鲜",
    "星辰书店",
    "Green Leaf Salad 绿叶轻食",
    "金牌汽修",
    "美佳美发",
    "东北饺子馆",
    "百味烘焙",
    "顺发加油站",
    "童趣玩具屋",
    "宏达数码",
    "兰州拉面",
    "海底捞捞鲜火锅",
    "花语花店",
    "Happy Paws 宠物店",
    "一品茶庄",
    "锦绣服饰",
    "安心母婴",
    "华联家电",
    "老街酸菜鱼",
    "小确幸甜品",
    "优品眼镜",
    "Sunny Mart 阳光超市",
    "隆盛建材",
    "湘味农家菜",
    "丽人美甲",
    "恒通手机维修",
    "佳佳洗衣",
    "潮汕牛肉火锅",
    "一心文具",
    "BlueSky Hostel 蓝天青旅",
]

# Extra support agents of the demo (no password: they cannot sign in; they only work tickets).
AGENTS = [("li.na", "娜", "李"), ("wang.lei", "磊", "王"), ("zhao.min", "敏", "赵")]

# --- merchants describe the decline (per code; "{card}" is a masked card or its last 4) --------

DESCRIPTIONS = {
    "51": [
        "顾客刷卡显示51，说卡里有钱啊，刷了两次都不行",
        "尾号{last4}的卡被拒，应答码51，顾客很着急",
        "余额不足？顾客说刚转了钱进去，能不能帮忙查下",
        "51 again, customer insists the balance is fine. Card {card}.",
        "大额消费被拒 51，顾客说是信用卡额度够的",
        "刷卡失败，小票上写51，顾客换了张卡就好了，想确认下原因",
    ],
    "55": [
        "密码输错了？顾客说密码肯定对，显示55",
        "顾客输了两次密码都显示55，现在不敢再试了",
        "55 密码错误，老人家记不清密码了，怎么办",
        "Customer typed the PIN twice, terminal says 55. Card ending {last4}.",
        "显示密码错，顾客坚持没输错，会不会是机器问题",
    ],
    "05": [
        "不予承兑05，啥意思？顾客卡是正常的",
        "应答码05，同一张卡昨天还能刷",
        "05 拒绝，顾客打了银行电话，银行说没问题",
        "Declined with 05 (do not honor), card {card}, customer annoyed.",
        "好几个顾客都是05，是不是我们这边有问题",
    ],
    "96": [
        "下午开始一直96系统故障，刷什么卡都不行",
        "显示96，重启了机器还是不行",
        "96 system error on every card since lunch, please check",
        "今天第二次出现96了，顾客只能扫码",
    ],
    "A0": [
        "所有卡都报A0，重启终端也没用",
        "A0 MAC校验错，机器是不是要重新签到",
        "换了新网线之后一直A0",
        "Terminal shows A0 for every card since this morning.",
    ],
    "61": [
        "61 超出取款金额限制，顾客买的东西不算贵啊",
        "顾客说今天刷了好几笔，现在显示61",
    ],
    "54": [
        "卡过期了54，顾客没注意到",
        "54 expired card, customer says the new card is still in the mail",
    ],
    "14": ["无效卡号14，顾客的卡是新办的", "显示14，卡号无效？卡面看着挺新的"],
    "91": [
        "91 发卡行不能操作，等了十分钟再刷还是不行",
        "91 issuer unavailable, several customers in a row",
    ],
    "75": ["密码错误次数超限75，卡被锁了吗", "75，顾客说只输错了一次"],
    "57": ["57 不允许此交易，顾客用的是公务卡", "显示57，外地的卡刷不了？"],
    "65": ["超出消费次数限制65", "65 too many transactions today on this card"],
    "01": ["01 请持卡人与发卡行联系", "应答码01，顾客说银行没通知他"],
    "98": ["98 超时，银行那边没回应", "交易超时98，顾客扣款了没到账"],
    "58": [
        "58 终端不允许此交易，预授权做不了",
        "58 terminal not permitted for this transaction type",
    ],
    "62": ["62 受限制的卡，顾客说是工资卡", "显示62，卡片受限"],
    "94": ["94 重复交易，可是只刷了一次", "Duplicate transaction 94, only swiped once"],
    "68": ["68 响应超时，网络好像不稳定", "顾客扫码没问题，刷卡就68超时"],
    "41": ["41 挂失卡，顾客说是自己的卡", "41 lost card?? customer says it is his own card"],
    "43": ["43 被窃卡，机器提示没收卡，我们没收", "显示43，顾客拿着卡走了"],
    "03": [
        "03 无效商户，我们刚换了营业执照",
        "03 invalid merchant after the bank changed our contract",
    ],
    "12": ["12 无效交易，退货做不了", "退货显示12"],
    "13": ["13 金额错误，多输了一个零，已经撤销", "13 invalid amount on a refund"],
    "22": ["22 故障怀疑，交易状态不明确", "22 suspected malfunction, customer unsure if charged"],
    "19": ["19 请重新交易，重刷了就好了", "显示19要重做交易"],
    "99": ["99 PIN格式错，密码键盘有点问题", "99 error after replacing the PIN pad"],
    "40": ["40 请求的功能尚不支持，分期付款做不了", "40 instalment not supported"],
    "59": ["59 有作弊嫌疑，顾客刷了好几张卡", "59 suspected fraud on a large amount"],
    "A7": ["A7 安全处理失败", "A7 security processing failure after key update"],
    "C0": ["C0 正在处理中，等了很久", "C0 transaction in progress, no result"],
    "33": ["33 过期的卡，没收卡", "33 expired card, pick up?"],
}

# --- agents answer (first public reply, per code) --------------------------------------------

REPLIES = {
    "51": [
        "51 一般是余额不足或者超了单日限额，让顾客问下发卡行限额，或者换张卡试试。",
        "您好，51 是发卡行那边判断余额或额度不够，不是终端的问题，请顾客联系银行确认。",
        (
            "51 means insufficient funds or a limit reached at the issuer; the customer should "
            "check with the bank or pay another way."
        ),
    ],
    "55": [
        "55 是密码错误。别让顾客一直试，输错三次卡会被锁，可以先换其他付款方式。",
        "您好，55 是发卡行说密码不对。提醒顾客注意是否开了小额免密，或者去柜台重置密码。",
        "55 is a wrong PIN at the issuer. Please do not let the customer retry many times.",
    ],
    "05": [
        "05 是发卡行拒绝但没说原因，只能顾客打银行电话问，我们这边也帮您报给收单行看看。",
        "05 属于发卡行风控或者卡状态的问题，先建议换卡，我们同时提交银行核查。",
    ],
    "96": [
        "96 是系统故障，我们已经联系收单行确认是不是线路的问题，稍后给您回复。",
        "您好，96 一般是银联或者收单行那边的系统问题，先让顾客扫码，我们在跟进。",
    ],
    "A0": [
        "A0 是 MAC 校验失败，请先在终端上做一次签到，不行的话我们请收单行重新下发密钥。",
        (
            "A0 usually means the terminal keys are out of sync. Please sign in on the terminal "
            "again; we have asked the acquirer to push new keys."
        ),
    ],
}
GENERIC_REPLIES = [
    "收到，我们看一下，有结果马上告诉您。",
    "您好，麻烦再拍一下小票给我们看看，特别是参考号那一行。",
    "这个码一般是发卡行那边的原因，建议顾客先联系银行，我们这边也记录了。",
    "Thanks, we are looking into it and will get back to you shortly.",
]
MERCHANT_REPLIES = [
    "好的，谢谢",
    "顾客打电话问了，银行说是限额，已经换卡付了",
    "重新签到之后可以了",
    "还是不行，今天又出现了",
    "小票照片发你们了，参考号看得清",
    "OK, customer paid with WeChat in the end.",
    "收到，辛苦了",
    "那要等多久？顾客在店里等着",
]
NOTES = [
    "查了收单行后台，这台终端最近一周拒绝率正常。",
    "同一商户这周第三次问51了，可以发一下限额的文章给他们。",
    "跟商户电话沟通过，顾客已改用扫码支付。",
    "疑似终端密钥问题，等这批一起报给银行。",
    "Merchant called twice. Calm them down, it is issuer side.",
    "参考号对上了，银行那边能查到这笔。",
    "顾客卡号只有后四位，先不用要完整卡号，按规定也不能要。",
]
RESOLVE_REPLIES = [
    "银行确认是顾客的卡限额问题，已经调整好了，这张单先关闭，有问题再联系我们。",
    "问题已经解决，如果再出现请直接回复这张工单。",
    "收单行已重新下发密钥，您这边签到后就正常了。",
    "Solved on the issuer side. Please tell us if it happens again.",
]
WAITING_REPLIES = [
    "麻烦提供一下小票上的参考号和凭证号，我们好让银行查。",
    "请问是所有卡都这样，还是只有这一张卡？",
    "Could you send a photo of the slip (the reference number line)?",
]
BANK_ANSWERS = [
    "银行回复：发卡行风控拦截，已解除，请商户让顾客重新交易。受理号 {ref}",
    "银行回复：终端密钥已重新下发，签到后恢复。受理号 {ref}",
    "银行回复：线路故障已于当日修复。受理号 {ref}",
    "Bank answered: issuer declined on risk rules, cardholder must call the issuer. Ref {ref}",
]
BATCH_NOTES = [
    "本周 A0/96 集中的终端，请收单行核查密钥和线路。",
    "05 拒绝较多，请帮忙向发卡行了解原因。",
    "Weekly batch: terminals with repeated system errors.",
    "商户反映的扣款未到账，请核实交易状态。",
]

# --- incidents and the announced maintenance window ------------------------------------------

MAINTENANCE = {
    "title_zh": "系统升级维护：刷卡交易可能短暂失败",
    "title_en": "System upgrade: card payments may fail for a short while",
    "body_zh": (
        "维护期间部分刷卡交易可能返回 91 或 96，请引导顾客使用扫码支付，维护结束后恢复正常。"
    ),
    "body_en": (
        "During the maintenance some card payments may be declined with 91 or 96. Offer QR "
        "payment meanwhile; card payments work again once the window ends."
    ),
}
INCIDENT_DESCRIPTIONS = [
    "突然所有卡都刷不了，显示96",
    "刷卡一直报96，扫码是好的",
    "91 发卡行不能操作，连着好几个顾客了",
    "All cards fail with 96 since a few minutes ago",
    "96 系统故障，隔壁店也一样",
]

# --- the flagged terminal: many different cards declined on one terminal within the hour -----

FLAGGED_DESCRIPTIONS = [
    "又是A0，这台机器今天第几次了",
    "刷卡读不出来，换卡也不行",
    "A0 again on the same terminal, different customer",
    "这台终端一直报错，别的收银台是好的",
]

# --- article feedback -------------------------------------------------------------------------

VOTE_COMMENTS_YES = [
    "写得很清楚，照着做就好了",
    "原来51不是机器的问题，明白了",
    "Clear and short, thanks.",
    "收银员看了就会处理了",
]
VOTE_COMMENTS_NO = [
    "还是不知道该怎么跟顾客解释",
    "签到了还是不行",
    "Did not help, still declined after restarting.",
    "希望能有图片说明",
]
