using System.Text.Json;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// DeepSeek R1 (and its distills): after the thinking, <c>&lt;｜tool▁calls▁begin｜&gt;</c>, then per call
/// <c>&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;name\n```json\n{…}\n```&lt;｜tool▁call▁end｜&gt;</c>, then
/// <c>&lt;｜tool▁calls▁end｜&gt;</c>. The distills also write the opening marker with plain underscores or spaces; those are read too.
/// </summary>
internal sealed class DeepSeekR1Reader : CallReader
{
    public const string CallsBegin = "<｜tool▁calls▁begin｜>", CallsEnd = "<｜tool▁calls▁end｜>", CallBegin = "<｜tool▁call▁begin｜>",
        CallEnd = "<｜tool▁call▁end｜>", Separator = "<｜tool▁sep｜>";
    private static readonly string[] Begins = [CallsBegin, "<｜tool_calls_begin｜>", "<｜tool calls begin｜>", "<｜tool\\_calls\\_begin｜>"];

    public override IReadOnlyList<string> Openers => Begins;

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        int at = 0;
        if (!Begins.Any(begin => Take(section, ref at, begin))) return null;
        var calls = new List<WrittenCall>();
        while (true)
        {
            at = SkipSpace(section, at);
            if (Take(section, ref at, CallsEnd) || at == section.Length) break;
            if (!Take(section, ref at, CallBegin)) return null;
            Take(section, ref at, "function");
            if (!Take(section, ref at, Separator)) return null;
            int newline = section.IndexOf('\n', at);
            if (newline < 0 || !ToolDefinition.IsValidName(section[at..newline].Trim())) return null;
            string name = section[at..newline].Trim();
            at = newline + 1;
            if (!Take(section, ref at, "```json")) return null;
            if (ReadJson(section, at) is not { } json) return null;
            using (json.Value)
            {
                if (json.Value.RootElement.ValueKind != JsonValueKind.Object) return null;
                calls.Add(new WrittenCall(name, json.Value.RootElement.GetRawText()));
            }
            at = SkipSpace(section, json.End);
            if (!Take(section, ref at, "```")) return null;
            at = SkipSpace(section, at);
            if (!Take(section, ref at, CallEnd) && at < section.Length) return null;
        }
        return calls.Count == 0 ? null : (calls, section[at..].Trim());
    }
}
