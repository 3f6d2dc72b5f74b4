"""Parts of a page rendered once per snapshot and inputs, with holes for what is per request.

    {% snapshot_fragment "directory_rows" snapshot inputs %}
      ... {% per_request "msos/_shortlist_button.html" slug=row.slug name=row.name %} ...
    {% endsnapshot_fragment %}

renders its content once for the snapshot and ``inputs`` (JSON-like: whatever the content
depends on besides the snapshot, such as the priorities, the filters and the page; ``None``
renders it afresh, uncached) and keeps the HTML with ``cache.snapshot_cached``. Each
``per_request`` inside is a hole: the first render keeps its template and arguments (plain
values, never a user's data) in place of its output, and every render, the first included,
fills the holes with the template rendered in the request's context (its CSRF token, the
surgeon's shortlist). What is kept is therefore the same for every surgeon with the same
inputs; a fragment that depends on who asks must say so in its inputs or put it in a hole.
Outside a fragment ``per_request`` is a plain include.
"""

from django import template
from django.utils.safestring import mark_safe

from scorecards.cache import snapshot_cached

register = template.Library()

RECORDING = "snapshot_fragment_holes"  # render_context key: the holes of the fragment rendering


class SnapshotFragmentNode(template.Node):
    def __init__(self, nodelist, name, snapshot, inputs):
        self.nodelist, self.name, self.snapshot, self.inputs = nodelist, name, snapshot, inputs

    def _record(self, context):
        """(text parts, holes): the content rendered with each hole left out, in order."""
        holes = []
        outer = context.render_context.get(RECORDING)
        context.render_context[RECORDING] = holes
        try:
            marked = self.nodelist.render(context)
        finally:
            context.render_context[RECORDING] = outer
        return marked.split(PerRequestNode.MARK), holes

    def render(self, context):
        snapshot, inputs = self.snapshot.resolve(context), self.inputs.resolve(context)
        if snapshot is None or inputs is None:
            parts, holes = self._record(context)
        else:
            name = f"fragment:{self.name.resolve(context)}"
            parts, holes = snapshot_cached(snapshot, name, lambda: self._record(context),
                                           inputs=inputs)  # fmt: skip
        out = [parts[0]]
        for (name, values), part in zip(holes, parts[1:], strict=True):
            out.append(PerRequestNode.fill(context, name, values))
            out.append(part)
        return mark_safe("".join(out))  # noqa: S308 - rendered by the templates above


class PerRequestNode(template.Node):
    MARK = "\x00hole\x00"  # never in rendered HTML: a NUL is refused in every input

    def __init__(self, name, values):
        self.name, self.values = name, values

    @staticmethod
    def fill(context, name, values):
        with context.push(**values):
            return context.template.engine.get_template(name).render(context)

    def render(self, context):
        values = {key: value.resolve(context) for key, value in self.values.items()}
        holes = context.render_context.get(RECORDING)
        if holes is None:
            return self.fill(context, self.name, values)
        holes.append((self.name, values))
        return self.MARK


@register.tag
def snapshot_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) != 4:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a name, a snapshot and inputs.")
    nodelist = parser.parse(("endsnapshot_fragment",))
    parser.delete_first_token()
    return SnapshotFragmentNode(nodelist, *(parser.compile_filter(bit) for bit in bits[1:]))


@register.tag
def per_request(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(f"{bits[0]} takes a template name and key=value.")
    values = template.base.token_kwargs(bits[2:], parser, support_legacy=False)
    if len(values) != len(bits) - 2:
        raise template.TemplateSyntaxError(f"{bits[0]}: arguments are key=value.")
    name = bits[1].strip("\"'")
    return PerRequestNode(name, values)
