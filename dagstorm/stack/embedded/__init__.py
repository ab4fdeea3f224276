"""The embedded stack: every component on 127.0.0.1, below one state directory.

:mod:`.launcher` starts, probes and stops it (:class:`~.launcher.EmbeddedStack`);
:mod:`.install` fetches and builds the components, :mod:`.components` holds one
module per component, :mod:`.context` what a component needs to know,
:mod:`.layout` where its state lives, :mod:`.ports` the port checks and
:mod:`.processes` the processes dagstorm starts. Its shape (components, ports,
Toxiproxy links) is :mod:`dagstorm.stack.topology`, shared with the compose stack.
"""
