"""The channels' few fixed texts, in one place (no Rasa imports: both virtual environments read it).

Everything else the bot says is in bot/domain.yml (responses) or built from the policy database.
"""

# A turn that produced no reply (Rasa, the action server or a store failed): say so, offer the hotline.
FALLBACK_TEXT = (
    "抱歉，系统暂时无法查询政策库，请稍后再试。急需办理可联系普陀区行政服务中心"
    "（12345市民服务热线，工作日 9:00-17:00）。"
)
# Too many messages from one sender in the window.
RATE_LIMITED_TEXT = "消息太频繁，请稍后再试"
# An API request the database cannot serve right now (HTTP 503).
DATABASE_DOWN_TEXT = "数据库暂时不可用，请稍后再试"

# WeChat Official Account: the welcome on subscribing, and the replies to what it cannot handle.
WECHAT_WELCOME = (
    "您好，欢迎关注普陀营商政策助手！\n"
    "请直接输入您关心的问题，例如：\n"
    "· 开办企业需要多长时间？\n"
    "· 报税有哪些便利措施？\n"
    "· 不动产登记找哪个部门？\n"
    "我会列出普陀区优化营商环境行动方案中的相关措施，注明条款编号和责任单位。"
)
WECHAT_TEXT_ONLY = "目前只能识别文字，请输入文字问题。"
WECHAT_EMPTY_TEXT = "请输入您想咨询的问题，例如：开办企业需要多长时间？"
# The last of WeChat's three deliveries of a slow question: the answer follows as a customer-service
# message when it is ready; without the API (no appsecret) it can only say the answer is delayed.
WECHAT_LATE_REPLY = "正在查询，答案稍后发给您。"
WECHAT_LATE_REPLY_UNSENT = "正在查询，这个问题用时较长，答案有所延迟。"
WECHAT_RATE_LIMITED = "您的消息太频繁了，请{wait}秒后再试。"
