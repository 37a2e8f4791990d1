"""What every public channel says when it cannot answer: no Rasa imports, so both venvs can read it."""

# A turn that produced no reply (action server or a store failed): say so and offer the hotline.
FALLBACK_TEXT = ("抱歉，系统暂时无法查询政策库，请稍后再试。急需办理可联系普陀区行政服务中心"
                 "（12345市民服务热线，工作日 9:00-17:00）。")
RATE_LIMITED_TEXT = "消息太频繁，请稍后再试"
