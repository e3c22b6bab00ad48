using System.Text;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Hermes 2 Pro and 3, Qwen 2.5 and 3: <c>&lt;tool_call&gt;{"name": …, "arguments": {…}}&lt;/tool_call&gt;</c> blocks after
/// optional text; text between and after the blocks is kept.
/// </summary>
internal sealed class HermesReader : CallReader
{
    private const string OpenTag = "<tool_call>", CloseTag = "</tool_call>";

    public override IReadOnlyList<string> Openers => [OpenTag];

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        var calls = new List<WrittenCall>();
        var rest = new StringBuilder();
        int at = 0;
        while (true)
        {
            int open = section.IndexOf(OpenTag, at, StringComparison.Ordinal);
            if (open < 0) break;
            rest.Append(section, at, open - at);
            int bodyStart = open + OpenTag.Length;
            int close = section.IndexOf(CloseTag, bodyStart, StringComparison.Ordinal);
            // A reply may end right after the JSON, before the closing tag.
            int bodyEnd = close < 0 ? section.Length : close;
            if (ReadJson(section[bodyStart..bodyEnd], 0) is not { } json) return null;
            using (json.Value)
            {
                if (SkipSpace(section[bodyStart..bodyEnd], json.End) != bodyEnd - bodyStart) return null;
                if (Call(json.Value.RootElement, "name", "arguments") is not { } call) return null;
                calls.Add(call);
            }
            at = close < 0 ? section.Length : close + CloseTag.Length;
        }
        rest.Append(section, at, section.Length - at);
        return (calls, rest.ToString().Trim());
    }
}
