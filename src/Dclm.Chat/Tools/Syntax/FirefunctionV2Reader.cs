namespace Dclm.Chat.Tools.Syntax;

/// <summary>Firefunction v2: <c> functools[{"name": …, "arguments": {…}}, …]</c> after optional text.</summary>
internal sealed class FirefunctionV2Reader : CallReader
{
    public const string Marker = "functools";

    // The template writes " functools[", so a reply's calls usually open with the space.
    public override IReadOnlyList<string> Openers => [" " + Marker + "[", Marker + "["];

    public override (List<WrittenCall> Calls, string After)? Read(string section)
    {
        int at = SkipSpace(section, 0);
        if (!Take(section, ref at, Marker) || ReadJson(section, at) is not { } json) return null;
        using (json.Value)
        {
            var calls = CallArray(json.Value.RootElement, "name", "arguments");
            return calls is null ? null : (calls, section[json.End..].Trim());
        }
    }
}
