using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dclm.Chat;
using Dclm.Chat.Jinja;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// Jinja chat templates: the 26 real templates of the server's tests, cut into tags and text, with tags
/// dropped, repeated, swapped, damaged inside, or snippets inserted that reach for the renderer's limits
/// (recursion, huge ranges and strings, division by zero, bad formats, deep nesting). Each case is parsed and
/// rendered over a conversation.
/// </summary>
internal sealed partial class JinjaTarget : FuzzTarget
{
    private static readonly string[] Snippets =
    [
        "{% for m in messages %}{{ m.content }}{% endfor %}", "{% endfor %}", "{% endif %}", "{% if %}", "{% else %}", "{{ }}", "{{", "}}", "{%", "%}",
        "{% macro m(x) %}{{ m(x) }}{% endmacro %}{{ m(1) }}", "{% macro c() %}{{ caller() }}{% endmacro %}{% call c() %}{{ c() }}{% endcall %}",
        "{{ range(100000000) | list }}", "{{ 'ab' * 100000000 }}", "{{ 'x' * 9999999 }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 1 % 0 }}",
        "{{ '%d' % 'x' }}", "{{ '%s %s' % (1,) }}", "{{ messages[99] }}", "{{ messages[-99] }}", "{{ messages[1:2:0] }}", "{{ none.x.y }}",
        "{{ x | tojson(indent=999999) }}", "{{ messages | tojson }}", "{{ (messages * 1000) | length }}", "{% set ns = namespace(a=1) %}{% set ns.a = ns %}{{ ns | tojson }}",
        "{{ raise_exception('no') }}", "{{ strftime_now('%Y %Q') }}", "{{ '{:>99999999}'.format(1) }}", "{{ 'a'.center(2147483647) }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "{{ 9223372036854775807 + 1 }}", "{{ -9223372036854775808 // -1 }}",
        "{{ 1e308 * 10 }}", "{{ [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }}", new string('(', 300) + "1" + new string(')', 300),
        "{{ x.__class__ }}", "{% raw %}{{ x }}", "{% filter upper %}x{% endfilter %}", "{{ messages | map(attribute='content') | join(', ') }}",
        "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}", "{{ loop.cycle() }}", "{% set x = x %}{{ x }}",
    ];

    private static readonly List<ChatTurn> Messages =
    [
        new("system", "Be brief."), new("user", "Hello {{ not a tag }} é 😀"), new("assistant", "Hi."), new("user", "<|im_end|> and </s>"),
    ];

    private readonly string[] templates;

    public JinjaTarget(string seedFolder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(seedFolder, "chat-templates.json")));
        templates = document.RootElement.EnumerateArray().Select(entry => entry.GetProperty("source").GetString()!).Distinct().ToArray();
    }

    public override string Name => "jinja";

    public override string ExpectedErrors => "JinjaException";

    [GeneratedRegex(@"(\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})", RegexOptions.Singleline)]
    private static partial Regex Tags();

    public override byte[] NextCase(Random random)
    {
        string template = templates[random.Next(templates.Length)];
        if (random.Next(6) == 0) return ByteMutator.Mutate(Encoding.UTF8.GetBytes(template), random);
        var parts = Tags().Split(template).Where(part => part.Length > 0).ToList();
        int edits = random.Next(1, 4);
        for (int i = 0; i < edits && parts.Count > 0; i++)
        {
            int at = random.Next(parts.Count);
            switch (random.Next(6))
            {
                case 0: parts.RemoveAt(at); break;
                case 1: parts.Insert(at, parts[random.Next(parts.Count)]); break;
                case 2: (parts[at], parts[random.Next(parts.Count)]) = (parts[random.Next(parts.Count)], parts[at]); break;
                case 3:
                    string part = parts[at];
                    if (part.Length > 4)
                    {
                        int cut = random.Next(2, part.Length - 2);
                        parts[at] = part[..cut] + "{}%#()[]'\"|.~-+*/ "[random.Next(18)] + part[(cut + random.Next(0, 2))..];
                    }
                    break;
                default: parts.Insert(at, Snippets[random.Next(Snippets.Length)]); break;
            }
        }
        return Encoding.UTF8.GetBytes(string.Concat(parts));
    }

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        try
        {
            var template = JinjaTemplate.Parse(Encoding.UTF8.GetString(input));
            var segments = template.Render(Messages, "<s>", "</s>", addGenerationPrompt: true, now: new DateTime(2026, 1, 2));
            _ = segments.Sum(segment => segment.Text.Length);
            return true;
        }
        catch (JinjaException)
        {
            return false; // its message may quote the template, line breaks and all
        }
    }
}
