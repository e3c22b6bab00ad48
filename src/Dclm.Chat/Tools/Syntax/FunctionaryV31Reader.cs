using System.Text.Json;

namespace Dclm.Chat.Tools.Syntax;

/// <summary>
/// Functionary v3.1 (Llama 3.1 based): <c>&lt;function=name&gt;{…}&lt;/function&gt;</c> calls after optional text, and for the
/// code interpreter <c>&lt;|python_tag|&gt;</c> followed by raw code, read as a call of <c>python</c> with <c>{"code": …}</c>.
/// </summary>
internal sealed class FunctionaryV31Reader : CallReader
{
    private const string OpenTag = "<function=", CloseTag = "</function>", PythonTag = "<|python_tag|>";

    public override IReadOnlyList<string> Openers => [OpenTag, PythonTag];

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        var calls = new List<WrittenCall>();
        int at = 0;
        while (true)
        {
            at = SkipSpace(section, at);
            if (Take(section, ref at, PythonTag))
            {
                calls.Add(new WrittenCall("python", JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = section[at..] })));
                return (calls, "");
            }
            if (!Take(section, ref at, OpenTag)) break;
            int nameEnd = section.IndexOf('>', at);
            if (nameEnd < 0 || !ToolDefinition.IsValidName(section[at..nameEnd])) return null;
            string name = section[at..nameEnd];
            if (ReadJson(section, nameEnd + 1) is not { } json) return null;
            using (json.Value)
            {
                if (json.Value.RootElement.ValueKind != JsonValueKind.Object) return null;
                calls.Add(new WrittenCall(name, json.Value.RootElement.GetRawText()));
            }
            at = SkipSpace(section, json.End);
            // The closing tag may be cut off at the reply's end.
            if (!Take(section, ref at, CloseTag) && at < section.Length) return null;
        }
        return calls.Count == 0 ? null : (calls, section[at..].Trim());
    }
}
