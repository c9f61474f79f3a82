"""bmdkit on the DICOM network: a storage SCP (``bmdkit listen``) and pulls from Orthanc or DICOMweb.

Every received or pulled object goes through :class:`~bmdkit.network.store.ObjectStore`
(written atomically under names bmdkit chooses), then through the ordinary batch
(:func:`bmdkit.batch.runner.run_batch`) on the store folder, so the outputs, state and
resume behaviour are those of ``bmdkit batch``.
"""
